"""How `info N` (and 🔍 on an image) shows one image: to the asker only, user text escaped."""

from __future__ import annotations

from typing import Any

from bot.playbook import checklist
from bot.playbook.tools.info import ImageInfo, Step
from bot.slack.blocks import escape, mention

PLAY_WORDS = {
    "sprint": "sprint",
    "lock": "hero",
    "volume": "volume",
    "fix": "repair",
    "gate": "gate",
}
KIND_WORDS = {
    "txt2img": "text to image",
    "img2img": "image to image",
    "inpaint": "inpainted",
    "upscale": "upscaled",
    "repro": "reproducibility re-render",
    "editor": "editor's file",
}
STATUS_WORDS = {
    "candidate": "a candidate (not kept or culled yet)",
    "kept": "kept",
    "culled": "culled",
    "with_editor": "with an editor",
    "at_gate": "at the review gate",
    "sent_back": "sent back",
    "shipped": "cleared at the gate",
}


def info_blocks(info: ImageInfo) -> tuple[str, list[dict[str, Any]]]:
    """The fallback text and the blocks of one image's card."""
    image = info.image
    title = (
        f"#{image.number}: {PLAY_WORDS.get(image.play, image.play)}, "
        f"{KIND_WORDS.get(image.kind, image.kind)}, {STATUS_WORDS.get(image.status, image.status)}"
    )
    lines = [f"*{escape(title)}*", *_what(info), _settings(info), _made(info), _lineage(info)]
    if image.status == "sent_back" and info.sent_back:
        item, note = info.sent_back
        lines.append(
            f"*Sent back for* {escape(checklist.short(item))}: {escape(note) or '(no note)'}"
        )
    lines += [f":round_pushpin: *Pinned* {escape(pin.describe())}" for pin in info.pins]
    body = "\n".join(line for line in lines if line)
    copy = escape(info.infotext).replace("```", "'''")
    notes = _notes(info)
    return title, [
        {"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}},
        *([{"type": "section", "text": {"type": "mrkdwn", "text": notes[:2900]}}] if notes else []),
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"A1111 infotext, to copy:\n```{copy[:2800]}```"},
        },
    ]


def _what(info: ImageInfo) -> list[str]:
    image = info.image
    lines = [f"*Prompt:* {escape(image.prompt) or '—'}"]
    if image.negative_prompt:
        lines.append(f"*Negative prompt:* {escape(image.negative_prompt)}")
    if image.style:
        lines.append(f"*Style:* {escape(image.style)}")
    if image.slot_value:
        lines.append(f"*Slot value:* {escape(image.slot_value)}")
    return lines


def loras_text(loras: list[dict[str, Any]] | None) -> str:
    """`LoRAs brand-style 0.8 (sha 1a2b3c4d5e)`, or nothing without any."""
    shown = ", ".join(
        f"`{escape(lora['name'])}` {float(lora['weight']):g} (sha `{lora['sha256'][:10]}`)"
        for lora in loras or []
    )
    return f"LoRAs {shown}" if shown else ""


def _settings(info: ImageInfo) -> str:
    image = info.image
    model = f"model `{escape(image.model_id or '?')}`"
    if image.model_hash:
        model += f" (hash `{image.model_hash[:10]}`)"
    parts = [
        f"seed `{image.seed}`" if image.seed is not None else "",
        model,
        f"{image.width}×{image.height}",
        f"{image.steps} steps" if image.steps else "",
        f"guidance {image.guidance:g}" if image.guidance is not None else "",
        escape(image.scheduler or ""),
        f"strength {image.strength:g}" if image.strength is not None else "",
        loras_text(image.loras),
    ]
    return " · ".join(part for part in parts if part)


def _made(info: ImageInfo) -> str:
    recipe = f"recipe v{info.recipe_version}" if info.recipe_version else "no recipe yet"
    when = info.made_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Made by {mention(info.image.created_by)} on {when} · {recipe} · "
        f"budget: {info.spent} of {info.budget} generations spent on its history (this image and its versions)"
    )


def _lineage(info: ImageInfo) -> str:
    if len(info.lineage) < 2:
        return "History: a first generation, with no versions after it."

    def shown(step: Step) -> str:
        number = f"*#{step.number}*" if step.number == info.image.number else f"#{step.number}"
        return f"{number} {KIND_WORDS.get(step.kind, step.kind)} ({STATUS_WORDS.get(step.status, step.status)})"

    steps = " → ".join(shown(step) for step in info.lineage)
    parent = f" (made from #{info.parent})" if info.parent else ""
    return f"History{parent}: {steps}"


# The newest notes that fit one section (Slack's limit is 3,000 characters; a note ≤ 500).
SHOWN_NOTES = 4


def _notes(info: ImageInfo) -> str:
    """The team's notes, newest last; older ones are counted, not shown."""
    if not info.notes:
        return ""
    shown = info.notes[-SHOWN_NOTES:]
    earlier = len(info.notes) - len(shown)
    lines = [f"*Notes* ({earlier} earlier not shown):" if earlier else "*Notes:*"]
    lines += [
        f"• {mention(note.author)}, {note.at:%Y-%m-%d %H:%M} UTC: {escape(note.text)}"
        for note in shown
    ]
    return "\n".join(lines)
