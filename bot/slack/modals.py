"""The modals: ranking the moodboard, repairing an image, sending an image back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.playbook.checklist import Item
from bot.slack.blocks import GRID_CELLS, Block, context, option, plain, section

if TYPE_CHECKING:
    from storage.models import Image, Project


def rank_modal(project: Project, images: Sequence[Image]) -> dict[str, Any]:
    options = [
        option(f"#{image.number} {image.style or ''}".strip(), str(image.number))
        for image in images
    ][:100]
    blocks: list[Block] = [
        section(
            "Order 3–5 candidates, best first. The first becomes the direction when you approve."
        )
    ]
    for place in range(5):
        blocks.append(
            {
                "type": "input",
                "block_id": f"rank_{place}",
                "optional": place >= 3,
                "label": plain(["1st (best)", "2nd", "3rd", "4th", "5th"][place]),
                "element": {
                    "type": "static_select",
                    "action_id": f"rank_{place}",
                    "options": options,
                    "placeholder": plain("Pick a candidate"),
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": "rank",
        "private_metadata": str(project.id),
        "title": plain("Rank the moodboard"),
        "submit": plain("Save ranking"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


# ---- play 2: hero and recipe card ----------------------------------------------------------


def fix_modal(project: Project, image: Image, spent: int, budget: int) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "fix",
        "private_metadata": f"{project.id}:{image.number}",
        "title": plain(f"Fix #{image.number}"),
        "submit": plain("Repair"),
        "close": plain("Cancel"),
        "blocks": [
            section(
                f"Repair a contained defect in *#{image.number}*. Iterations used: {spent} of {budget}."
            ),
            {
                "type": "input",
                "block_id": "mode",
                "label": plain("How"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "mode",
                    "initial_option": option("Inpaint a region", "inpaint"),
                    "options": [
                        option("Inpaint a region", "inpaint"),
                        option("Refine the whole image (low strength)", "refine"),
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "cells",
                "optional": True,
                "label": plain("Region (3×3 grid: a–c across, 1–3 down)"),
                "element": {
                    "type": "checkboxes",
                    "action_id": "cells",
                    "options": [option(cell, cell) for cell in GRID_CELLS],
                },
            },
            context(
                ":warning: More than 3 cells is more than a third of the image: the playbook says regenerate instead."
            ),
            {
                "type": "input",
                "block_id": "instruction",
                "optional": True,
                "label": plain("What should change"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "instruction",
                    "placeholder": plain("what the region should show: clear sky, remove the text"),
                },
            },
            {
                "type": "input",
                "block_id": "strength",
                "optional": True,
                "label": plain("Strength"),
                "element": {
                    "type": "static_select",
                    "action_id": "strength",
                    "placeholder": plain("default"),
                    "options": [
                        option(value, value)
                        for value in ("0.1", "0.2", "0.3", "0.4", "0.5", "0.75", "0.9", "1.0")
                    ],
                },
            },
        ],
    }


def sendback_modal(project: Project, number: int, checklist: Sequence[Item]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "sendback",
        "private_metadata": f"{project.id}:{number}",
        "title": plain(f"Send back #{number}"),
        "submit": plain("Send back"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "item",
                "label": plain("Which checklist item fails"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "item",
                    "options": [
                        option(item.short.capitalize(), item.key)
                        for item in checklist
                        if item.reviewer
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": plain("Note for the Operator"),
                "element": {"type": "plain_text_input", "action_id": "note", "multiline": True},
            },
        ],
    }


def pick_image_modal(
    project_id: int, shortcut: str, title: str, numbers: Sequence[int]
) -> dict[str, Any]:
    """A shortcut on a moodboard or batch: which of the message's images it is for."""
    return {
        "type": "modal",
        "callback_id": "pick_image",
        "private_metadata": f"{project_id}:{shortcut}",
        "title": plain(title[:24]),
        "submit": plain("Go"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "number",
                "label": plain("Which image"),
                "element": {
                    "type": "static_select",
                    "action_id": "number",
                    "options": [option(f"#{n}", str(n)) for n in numbers[:100]],
                },
            }
        ],
    }


def new_project_modal(channel: str | None = None) -> dict[str, Any]:
    """The *New project* shortcut: where, the intent in one sentence, and who wears which hat
    (left empty, a hat goes to the channel's default, as with `new`)."""

    def who(role: str) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": role,
            "optional": True,
            "label": plain(role.capitalize()),
            "element": {"type": "users_select", "action_id": role},
        }

    where: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": "channel",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel:
        where["initial_conversation"] = channel
    return {
        "type": "modal",
        "callback_id": "new_project",
        "title": plain("New project"),
        "submit": plain("Start"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "input", "block_id": "channel", "label": plain("Channel"), "element": where},
            {
                "type": "input",
                "block_id": "intent",
                "label": plain("Intent, in one sentence"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "intent",
                    "placeholder": plain(
                        "Hero art for the spring courier campaign, warm and hopeful."
                    ),
                },
            },
            who("director"),
            who("operator"),
            who("reviewer"),
        ],
    }


# ---- reports ---------------------------------------------------------------------------------
