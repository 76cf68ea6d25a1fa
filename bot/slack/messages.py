"""Each play's interactive message: the moodboard, the hero, a batch, a repair, the gate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.slack.blocks import (
    GRID_CELLS,
    MAX_OPTIONS,
    Block,
    button,
    context,
    escape,
    image_block,
    mention,
    option,
    plain,
    recipe_fields,
    reproducibility_line,
    section,
)
from storage.content_credentials import Verdict
from storage.states import KEEPERS

if TYPE_CHECKING:
    from bot.playbook.service import GateView
    from storage.gate_models import GateDraft
    from storage.models import Image, Project, Recipe


def moodboard(project: Project, images: Sequence[Image], file_id: str) -> list[Block]:
    styles: dict[str, list[int]] = {}
    for image in images:
        styles.setdefault(image.style or "—", []).append(image.number)
    legend = " · ".join(
        f"*{escape(style)}*: {', '.join(f'#{n}' for n in numbers)}"
        for style, numbers in styles.items()
    )
    return [
        section(
            f":frame_with_picture: *Moodboard* — {len(images)} variations across {len(styles)} styles. Shop for direction, not polish."
        ),
        image_block(
            file_id, f"Contact sheet of {len(images)} numbered sprint candidates", "Moodboard"
        ),
        context(legend),
        {
            "type": "actions",
            "block_id": f"moodboard:{project.id}",
            "elements": [
                button("Rank candidates", "rank_open", str(project.id), "primary"),
                button("Approve direction", "approve_direction", str(project.id)),
            ],
        },
        context(
            f"{mention(project.director)}: rank 3–5 candidates (or reply `rank 7 2 11`), then approve — a :white_check_mark: on this message approves the top-ranked one."
        ),
    ]


def hero(project: Project, recipe: Recipe, image: Image, file_id: str) -> list[Block]:
    blocks = [
        section(f":star: *Hero #{image.number}* from recipe v{recipe.version}"),
        image_block(
            file_id, f"Hero image #{image.number}: {image.prompt}", f"Hero #{image.number}"
        ),
        {"type": "section", "fields": recipe_fields(recipe)},
        context(reproducibility_line(recipe)),
    ]
    if recipe.reproducible:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"hero:{project.id}",
                "elements": [button("Approve hero", "approve_hero", str(project.id), "primary")],
            }
        )
        blocks.append(
            context(
                f"{mention(project.director)}: approve with the button or a :white_check_mark: on this message."
            )
        )
    return blocks


# ---- play 3: batches -------------------------------------------------------------------------


def batch(project: Project, images: Sequence[Image], file_id: str, title: str) -> list[Block]:
    """A contact sheet with keep/cull checkboxes (10 per element) and follow-up actions."""
    blocks: list[Block] = [
        section(
            f":package: *{title}* — {len(images)} images. Cull aggressively: expect to keep 1 in 4 or fewer."
        ),
        image_block(
            file_id, f"Contact sheet of images {images[0].number}–{images[-1].number}", title
        ),
    ]
    for start in range(0, len(images), MAX_OPTIONS):
        chunk = images[start : start + MAX_OPTIONS]
        options = [
            option(f"#{image.number} {image.slot_value or ''}".strip(), str(image.number))
            for image in chunk
        ]
        element: dict[str, Any] = {
            "type": "checkboxes",
            "action_id": f"keep_{start // MAX_OPTIONS}",
            "options": options,
        }
        kept = [
            option for option, image in zip(options, chunk, strict=True) if image.status in KEEPERS
        ]
        if kept:
            element["initial_options"] = kept
        blocks.append(
            {"type": "actions", "block_id": f"keep_{start // MAX_OPTIONS}", "elements": [element]}
        )
    fix_options = [option(f"Fix #{image.number}", str(image.number)) for image in images][:100]
    blocks.append(
        {
            "type": "actions",
            "block_id": f"batch:{project.id}",
            "elements": [
                button("Save keep/cull", "batch_save", str(project.id), "primary"),
                button("Upscale keepers", "upscale_keepers", str(project.id)),
                {
                    "type": "static_select",
                    "action_id": "fix_open",
                    "placeholder": plain("Fix an image…"),
                    "options": fix_options,
                },
            ],
        }
    )
    blocks.append(context("Ticked = keep, unticked = cull. Only the Operator's choices count."))
    return blocks


def sheet_only(
    title: str, images: Sequence[Image], file_id: str, caption: str | None = None
) -> list[Block]:
    numbers = ", ".join(f"#{image.number}" for image in images)
    return [
        section(f":mag: *{title}* — {caption or numbers}"),
        image_block(file_id, f"{title}: {numbers}", title),
    ]


# ---- play 4: repairs -------------------------------------------------------------------------


MADE = {
    "inpaint": "inpainted",
    "editor": "edited by hand",
    "upscale": "upscaled",
    "repro": "re-rendered",
}


def _how(image: Image) -> str:
    """What making this version from its parent was, in words."""
    if image.kind in MADE:
        return MADE[image.kind]
    if image.kind == "img2img":
        return "refined" if image.play == "fix" else "varied"
    return "locked as the hero" if image.play == "lock" else "re-rolled"


def made_from(image: Image, parent: Image | None, cells: list[int] | None = None) -> str:
    """Who made a version and from what: "@Omar inpainted #18 (a1, b1) → #28"."""
    if parent is None:
        return f"#{image.number}"
    where = f" ({', '.join(GRID_CELLS[c] for c in cells)})" if cells else ""
    return f"{mention(image.created_by)} {_how(image)} #{parent.number}{where} → #{image.number}"


def repaired(
    project: Project,
    image: Image,
    parent: Image | None,
    file_id: str,
    cells: list[int] | None = None,
) -> list[Block]:
    origin = f" of #{parent.number}" if parent else ""
    strength = f" (strength {image.strength:g})" if image.strength is not None else ""
    return [
        section(
            f":adhesive_bandage: {made_from(image, parent, cells)}{strength}\n"
            f"*Prompt:* {escape(image.prompt)}"
            + (
                f"\n*Negative prompt:* {escape(image.negative_prompt)}"
                if image.negative_prompt
                else ""
            )
        ),
        image_block(file_id, f"Repaired version{origin}: {image.prompt}", f"#{image.number}"),
        {
            "type": "actions",
            "block_id": f"repair:{project.id}",
            "elements": [
                button(
                    "Send to the gate", "send_to_gate", f"{project.id}:{image.number}", "primary"
                )
            ],
        },
    ]


# ---- play 5: the review gate -----------------------------------------------------------------


def credentials_line(verdict: Verdict) -> str:
    """What the final's Content Credentials say; a hint, not a box: the Reviewer may ship without."""
    if verdict.ok:
        return (
            f":label: Content Credentials: {escape(verdict.state)}, signed by "
            f"{escape(verdict.signer)} ({escape(verdict.source)})"
        )
    if verdict.state == "none":
        return (
            ":warning: No Content Credentials: Atelier has no signing certificate, so this image "
            "carries only the XMP mark (trainedAlgorithmicMedia). Where the EU AI Act or a client "
            "asks for C2PA, set ATELIER_C2PA_CERT and ATELIER_C2PA_KEY (README: Content Credentials)."
        )
    return (
        ":x: Its Content Credentials do not validate ("
        + escape(", ".join(verdict.problems))
        + "): the file changed after it was signed."
    )


def gate(
    project: Project,
    view: GateView,
    file_id: str,
    draft: GateDraft | None = None,
    beside: list[Block] | None = None,
    credentials: Verdict | None = None,
) -> list[Block]:
    """The gate: the image (and, for a repair or edit, its parent beside it), checklist, alt text."""
    image = view.image
    ticked = set(draft.ticked) if draft else set()
    checkbox: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": "gate_boxes",
        "options": [
            {**option(item.short.capitalize(), item.key), "description": plain(item.text)}
            for item in view.checklist
            if item.reviewer
        ],
    }
    initial = [o for o in checkbox["options"] if o["value"] in ticked]
    if initial:
        checkbox["initial_options"] = initial
    hint_text = "\n".join(f"• `{escape(hint.term)}` — {hint.why}" for hint in view.hints) or "none"
    logged = (
        ":white_check_mark: Logged with its recipe (ticked by Atelier)"
        if view.logged
        else ":x: Not logged with a recipe"
    )
    alt: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "gate_alt",
        "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
        "placeholder": plain("Describe the image for someone who can't see it"),
    }
    if draft and draft.alt_text:
        alt["initial_value"] = draft.alt_text
    return [
        section(
            f":shield: *Review gate — #{image.number}*  ·  Reviewer {mention(project.reviewer)}"
            " (may send anything back)"
            + (f"\n{made_from(image, view.parent)}" if view.parent else "")
        ),
        image_block(file_id, f"Gate candidate #{image.number}: {image.prompt}", f"#{image.number}"),
        *(beside or []),
        section(
            f"*Prompt:* {escape(image.prompt)}"
            + (
                f"\n*Negative prompt:* {escape(image.negative_prompt)}"
                if image.negative_prompt
                else ""
            )
            + f"\n*Worth a look (Atelier's guess, your call):*\n{hint_text}"
            + "".join(f"\n:round_pushpin: {escape(pin.describe())}" for pin in view.pins)
        ),
        {
            "type": "actions",
            "block_id": f"gate_boxes:{project.id}:{image.number}",
            "elements": [checkbox],
        },
        context(logged + (f"\n{credentials_line(credentials)}" if credentials else "")),
        {
            "type": "input",
            "block_id": f"gate_alt:{project.id}:{image.number}",
            "dispatch_action": True,
            "label": plain("Alt text (required)"),
            "element": alt,
        },
        {
            "type": "actions",
            "block_id": f"gate:{project.id}:{image.number}",
            "elements": [
                button("Clear to ship", "gate_clear", f"{project.id}:{image.number}", "primary"),
                button("Send back", "gate_sendback", f"{project.id}:{image.number}", "danger"),
            ],
        },
        context(
            "Clear needs every box and the alt text. :white_check_mark: on this message clears it, :x: sends it back."
        ),
    ]
