"""Block Kit for every message and modal Atelier shows; pure functions of domain rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.playbook.gate import CHECKLIST, REVIEWER_ITEMS, SHORT, GateItem
from bot.playbook.metrics import Metric
from bot.playbook.plays import PLAYS

if TYPE_CHECKING:
    from bot.playbook.service import GateView
    from storage.models import GateDraft, Image, Job, PlayRun, Project, Recipe

Block = dict[str, Any]
MAX_OPTIONS = 10
STATUS_ICON = {
    "pending": ":white_large_square:",
    "active": ":arrows_counterclockwise:",
    "done": ":white_check_mark:",
    "skipped": ":fast_forward:",
}
JOB_LABEL = {
    "sprint": "Concept sprint",
    "hero": "Hero + reproducibility check",
    "volume": "Volume run",
    "fix": "Repair",
    "upscale": "Upscale",
}
GRID_CELLS = [f"{column}{row}" for row in "123" for column in "abc"]


def _text(text: str, kind: str = "mrkdwn") -> dict[str, Any]:
    return {"type": kind, "text": text[:3000]}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150], "emoji": True}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": _text(text), **extra}


def context(text: str) -> Block:
    return {"type": "context", "elements": [_text(text)]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": _plain(text),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def image_block(file_id: str, alt: str, title: str | None = None) -> Block:
    block: Block = {"type": "image", "slack_file": {"id": file_id}, "alt_text": alt[:2000]}
    if title:
        block["title"] = _plain(title)
    return block


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": value}


def mention(user: str | None) -> str:
    return f"<@{user}>" if user else "nobody"


# ---- project root and status --------------------------------------------------------------


def tracker_lines(plays: Sequence[PlayRun]) -> list[str]:
    lines = []
    for info, run in zip(PLAYS, plays, strict=True):
        line = f"{STATUS_ICON[run.status]} *{info.title}* — {run.status}"
        if run.status == "skipped" and run.skip_reason:
            line += f" (skipped by {mention(run.actor)}: _{run.skip_reason}_)"
        lines.append(line)
    return lines


def project_root(project: Project, plays: Sequence[PlayRun]) -> tuple[str, list[Block]]:
    """The project's root message: intent, roles and the play tracker, updated in place."""
    blocks: list[Block] = [
        section(f":art: *Project {project.id}* — {project.intent}"),
        context(
            f"Director {mention(project.director)} · Operator {mention(project.operator)} · Reviewer {mention(project.reviewer)} · model `{project.model}`"
        ),
    ]
    if project.state == "paused":
        blocks.append(section(f":double_vertical_bar: *Paused:* {project.pause_detail}"))
    blocks.append(section("\n".join(tracker_lines(plays))))
    blocks.append(
        context(
            "Reply in this thread to run a play: `sprint watercolor | flat vector | film photo — a courier at dawn`, `help` for all commands."
        )
    )
    return f"Project {project.id}: {project.intent}", blocks


def progress_text(job: Job) -> str:
    label = JOB_LABEL.get(job.kind, job.kind)
    if job.status == "queued" and job.progress_done == 0:
        return (
            f":hourglass_flowing_sand: {label}: queued (job {job.id}, {job.progress_total} images)"
        )
    if job.status in ("queued", "running"):
        return f":hourglass_flowing_sand: {label}: {job.progress_done}/{job.progress_total}"
    if job.status == "done":
        return f":white_check_mark: {label}: {job.progress_total}/{job.progress_total} done"
    if job.status == "cancelled":
        return f":no_entry_sign: {label}: cancelled at {job.progress_done}/{job.progress_total}"
    return f":warning: {label}: failed — {job.error}"


# ---- play 1: moodboard and ranking -----------------------------------------------------------


def moodboard(project: Project, images: Sequence[Image], file_id: str) -> list[Block]:
    styles: dict[str, list[int]] = {}
    for image in images:
        styles.setdefault(image.style or "—", []).append(image.number)
    legend = " · ".join(
        f"*{style}*: {', '.join(f'#{n}' for n in numbers)}" for style, numbers in styles.items()
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


def rank_modal(project: Project, images: Sequence[Image]) -> dict[str, Any]:
    options = [
        _option(f"#{image.number} {image.style or ''}".strip(), str(image.number))
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
                "label": _plain(["1st (best)", "2nd", "3rd", "4th", "5th"][place]),
                "element": {
                    "type": "static_select",
                    "action_id": f"rank_{place}",
                    "options": options,
                    "placeholder": _plain("Pick a candidate"),
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": "rank",
        "private_metadata": str(project.id),
        "title": _plain("Rank the moodboard"),
        "submit": _plain("Save ranking"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


# ---- play 2: hero and recipe card ----------------------------------------------------------


def recipe_fields(recipe: Recipe) -> list[dict[str, Any]]:
    return [
        _text(f"*Model*\n`{recipe.model_id}` `{(recipe.model_hash or 'pending')[:12]}`"),
        _text(f"*Scheduler*\n{recipe.scheduler}"),
        _text(f"*Steps · guidance*\n{recipe.steps} · {recipe.guidance:g}"),
        _text(f"*Size · seed*\n{recipe.width}×{recipe.height} · {recipe.seed}"),
        _text(f"*Template*\n`{recipe.prompt_template}`"),
        _text(f"*Slot*\n`{{{recipe.slot_name}}}` = {recipe.slot_value}"),
        _text(f"*Negative*\n{recipe.negative_prompt or '—'}"),
    ]


def reproducibility_line(recipe: Recipe) -> str:
    if recipe.reproducible is None:
        return ":hourglass_flowing_sand: Reproducibility check running"
    verdict = (
        ":white_check_mark: Reproduces from the card alone"
        if recipe.reproducible
        else ":x: Does *not* reproduce from the card — the recipe isn't real yet"
    )
    return f"{verdict} (mean diff {recipe.repro_mean_diff:.3f}, max {recipe.repro_max_diff:.0f} of 255; tolerance {recipe.tolerance:g}/{recipe.max_tolerance:g})"


def recipe_card(recipe: Recipe) -> list[Block]:
    return [
        section(
            f":scroll: *Recipe card v{recipe.version}* — locked by {mention(recipe.locked_by)}"
        ),
        {"type": "section", "fields": recipe_fields(recipe)},
        context(reproducibility_line(recipe)),
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
            _option(f"#{image.number} {image.slot_value or ''}".strip(), str(image.number))
            for image in chunk
        ]
        element: dict[str, Any] = {
            "type": "checkboxes",
            "action_id": f"keep_{start // MAX_OPTIONS}",
            "options": options,
        }
        kept = [
            option for option, image in zip(options, chunk, strict=True) if image.status == "kept"
        ]
        if kept:
            element["initial_options"] = kept
        blocks.append(
            {"type": "actions", "block_id": f"keep_{start // MAX_OPTIONS}", "elements": [element]}
        )
    fix_options = [_option(f"Fix #{image.number}", str(image.number)) for image in images][:100]
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
                    "placeholder": _plain("Fix an image…"),
                    "options": fix_options,
                },
            ],
        }
    )
    blocks.append(context("Ticked = keep, unticked = cull. Only the Operator's choices count."))
    return blocks


def sheet_only(title: str, images: Sequence[Image], file_id: str) -> list[Block]:
    numbers = ", ".join(f"#{image.number}" for image in images)
    return [
        section(f":mag: *{title}* — {numbers}"),
        image_block(file_id, f"{title}: {numbers}", title),
    ]


# ---- play 4: repairs -------------------------------------------------------------------------


def fix_modal(project: Project, image: Image, spent: int, budget: int) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "fix",
        "private_metadata": f"{project.id}:{image.number}",
        "title": _plain(f"Fix #{image.number}"),
        "submit": _plain("Repair"),
        "close": _plain("Cancel"),
        "blocks": [
            section(
                f"Repair a contained defect in *#{image.number}*. Iterations used: {spent} of {budget}."
            ),
            {
                "type": "input",
                "block_id": "mode",
                "label": _plain("How"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "mode",
                    "initial_option": _option("Inpaint a region", "inpaint"),
                    "options": [
                        _option("Inpaint a region", "inpaint"),
                        _option("Refine the whole image (low strength)", "refine"),
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "cells",
                "optional": True,
                "label": _plain("Region (3×3 grid: a–c across, 1–3 down)"),
                "element": {
                    "type": "checkboxes",
                    "action_id": "cells",
                    "options": [_option(cell, cell) for cell in GRID_CELLS],
                },
            },
            context(
                ":warning: More than 3 cells is more than a third of the image: the playbook says regenerate instead."
            ),
            {
                "type": "input",
                "block_id": "instruction",
                "optional": True,
                "label": _plain("What should change"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "instruction",
                    "placeholder": _plain("remove the stray text"),
                },
            },
            {
                "type": "input",
                "block_id": "strength",
                "optional": True,
                "label": _plain("Strength"),
                "element": {
                    "type": "static_select",
                    "action_id": "strength",
                    "placeholder": _plain("default"),
                    "options": [
                        _option(value, value)
                        for value in ("0.1", "0.2", "0.3", "0.4", "0.5", "0.75", "0.9")
                    ],
                },
            },
        ],
    }


def repaired(project: Project, image: Image, parent: Image | None, file_id: str) -> list[Block]:
    origin = f" of #{parent.number}" if parent else ""
    how = {"inpaint": "inpainted", "img2img": "refined", "editor": "edited by hand"}.get(
        image.kind, image.kind
    )
    return [
        section(
            f":adhesive_bandage: *#{image.number}* — #{parent.number if parent else '?'} {how} (strength {image.strength if image.strength is not None else '—'})"
            if parent
            else f"*#{image.number}*"
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


def gate(
    project: Project, view: GateView, file_id: str, draft: GateDraft | None = None
) -> list[Block]:
    image = view.image
    ticked = set(draft.ticked) if draft else set()
    options = [_option(SHORT[item].capitalize(), item.value) for item in REVIEWER_ITEMS]
    checkbox: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": "gate_boxes",
        "options": [
            {**option, "description": _plain(CHECKLIST[item])}
            for option, item in zip(options, REVIEWER_ITEMS, strict=True)
        ],
    }
    initial = [o for o in checkbox["options"] if o["value"] in ticked]
    if initial:
        checkbox["initial_options"] = initial
    hint_text = "\n".join(f"• `{hint.term}` — {hint.why}" for hint in view.hints) or "none"
    logged = (
        ":white_check_mark: Logged with its recipe (ticked by Atelier)"
        if view.logged
        else ":x: Not logged with a recipe"
    )
    alt: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "gate_alt",
        "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
        "placeholder": _plain("Describe the image for someone who can't see it"),
    }
    if draft and draft.alt_text:
        alt["initial_value"] = draft.alt_text
    return [
        section(
            f":shield: *Review gate — #{image.number}*  ·  Reviewer {mention(project.reviewer)} (veto)"
        ),
        image_block(file_id, f"Gate candidate #{image.number}: {image.prompt}", f"#{image.number}"),
        section(f"*Prompt:* {image.prompt}\n*Hints (never a decision):*\n{hint_text}"),
        {
            "type": "actions",
            "block_id": f"gate_boxes:{project.id}:{image.number}",
            "elements": [checkbox],
        },
        context(logged),
        {
            "type": "input",
            "block_id": f"gate_alt:{project.id}:{image.number}",
            "dispatch_action": True,
            "label": _plain("Alt text (required)"),
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


def sendback_modal(project: Project, number: int) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "sendback",
        "private_metadata": f"{project.id}:{number}",
        "title": _plain(f"Send back #{number}"),
        "submit": _plain("Send back"),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "item",
                "label": _plain("Which checklist item fails"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": "item",
                    "options": [
                        _option(SHORT[item].capitalize(), item.value)
                        for item in GateItem
                        if item is not GateItem.LOGGED
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": _plain("Note for the Operator"),
                "element": {"type": "plain_text_input", "action_id": "note", "multiline": True},
            },
        ],
    }


# ---- reports ---------------------------------------------------------------------------------


def metrics_blocks(
    title: str, current: Sequence[Metric], previous: Sequence[Metric], days: int
) -> list[Block]:
    lines = []
    for now, before in zip(current, previous, strict=True):
        trend = ""
        if now.value is not None and before.value is not None:
            delta = now.value - before.value
            arrow = (
                ":arrow_up:" if delta > 0 else ":arrow_down:" if delta < 0 else ":left_right_arrow:"
            )
            good = (delta > 0) == (now.better == "up") if delta else None
            trend = f" {arrow} from {before.formatted()}" + (
                "" if good is None else " (good)" if good else " (watch)"
            )
        lines.append(f"*{now.name}:* {now.formatted()}{trend} — n={now.count}\n_{now.meaning}_")
    return [
        section(f":bar_chart: *{title}* — last {days} days vs the {days} before"),
        section("\n".join(lines)),
    ]


def status_blocks(project: Project, plays: Sequence[PlayRun], jobs: Sequence[Job]) -> list[Block]:
    _, blocks = project_root(project, plays)
    if jobs:
        blocks.append(section("*Queue*\n" + "\n".join(progress_text(job) for job in jobs)))
    return blocks
