"""The review gate's posts: the gate message, and a send-back's pins outlined on the image."""

from __future__ import annotations

from typing import Any

from bot.imaging import outline_cells, veiled
from bot.playbook.image_rules import SAFETY_HELD
from bot.playbook.pins import cell_names
from bot.slack import blocks, comparisons, messages
from bot.slack.sender import Sender
from bot.slack.threads import post_in_thread
from bot.slack.threads import project_thread as _thread
from storage.content_credentials import encode, verify
from storage.models import Image, OutboxMessage, Project
from storage.pngs import read_png


def gate(d: Sender, message: OutboxMessage, project: Project | None) -> dict[str, Any]:
    project = _thread(project)
    number = message.payload["number"]
    view = d.service.gate_view(project.id, number)
    file_id = d.upload(message, view.image.file_hash, f"gate-{number}.png", f"#{number}")
    draft = d.service.gate_draft(project.id, number)
    with d.store.open(view.image.file_hash) as png:
        credentials = verify(png)
    beside = _beside_parent(d, message, view.image)
    return post_in_thread(
        d,
        message,
        project,
        f"Review gate: #{number}",
        messages.gate(project, view, file_id, draft, beside, credentials),
        kind="gate",
        image_id=view.image.id,
    )


def _beside_parent(d: Sender, message: OutboxMessage, image: Image) -> list[dict[str, Any]]:
    """A repaired or edited image's parent beside it, with what changed; nothing for the rest."""
    parent = d.service.image_by_id(image.parent_id) if image.parent_id else None
    if parent is None or image.kind not in comparisons.EDITS:
        return []
    file_id, shown = comparisons.upload(d, message, parent, image)
    return comparisons.blocks(parent, image, file_id, shown)


def pins(d: Sender, message: OutboxMessage, project: Project | None) -> dict[str, Any]:
    """Where a send-back points: the image with its pinned cells outlined and named."""
    project = _thread(project)
    number, cells = message.payload["number"], message.payload["cells"]
    image = d.service.image(project.id, number)
    picture, _ = read_png(d.store.get(image.file_hash))
    pinned = {"pins_on": number, "cells": cells}
    digest = d.store.put(encode(outline_cells(picture, cells), pinned, d.credentials))
    where = cell_names(cells)
    file_id = d.upload(message, digest, f"pins-{number}.png", f"#{number}: {where}")
    text = f":round_pushpin: #{number} sent back for {message.payload['item']} at {where}"
    alt = f"#{number} with cells {where} outlined"
    return post_in_thread(
        d,
        message,
        project,
        text,
        [
            blocks.section(blocks.escape(text) + f" — `fix {number}` repairs the pinned cells."),
            blocks.image_block(file_id, alt, f"#{number} · {where}"),
        ],
    )


HELD_SHOWN = 20  # each is an image and a row of buttons: 41 blocks, under Slack's 50


def held(d: Sender, message: OutboxMessage, project: Project | None) -> dict[str, Any]:
    """What the safety checker flagged, blurred, for the Reviewer, who alone releases or culls."""
    project = _thread(project)
    text = (
        f":see_no_evil: {blocks.mention(project.reviewer)}: held back, {SAFETY_HELD} "
        "(possible NSFW content). Blurred here; only the Reviewer can release one (it joins "
        "its batch as a candidate) or cull it."
    )
    numbers = message.payload["numbers"]
    more = numbers[HELD_SHOWN:]
    if more:  # Slack takes 50 blocks a message: the rest by number
        text += f" Also held: {', '.join(f'#{n}' for n in more)} (`info N`)."
    shown: list[dict[str, Any]] = [blocks.section(text)]
    for number in numbers[:HELD_SHOWN]:
        image = d.service.image(project.id, number)
        picture, _ = read_png(d.store.get(image.file_hash))
        digest = d.store.put(encode(veiled(picture), {"held": number}, d.credentials))
        file_id = d.upload(message, digest, f"held-{number}.png", f"#{number} (held, blurred)")
        value = f"{project.id}:{number}"
        shown += [
            blocks.image_block(file_id, f"#{number}, blurred: held for the Reviewer", f"#{number}"),
            {
                "type": "actions",
                "block_id": f"held:{value}",
                "elements": [
                    blocks.button(f"Release #{number}", "held_release", value),
                    blocks.button(f"Cull #{number}", "held_cull", value, "danger"),
                ],
            },
        ]
    return post_in_thread(d, message, project, f"Held for the Reviewer: {text}", shown)


def released(d: Sender, message: OutboxMessage, project: Project | None) -> dict[str, Any]:
    """A held image the Reviewer released, shown as it is."""
    project = _thread(project)
    number = message.payload["number"]
    image = d.service.image(project.id, number)
    file_id = d.upload(message, image.file_hash, f"image-{number}.png", f"#{number}")
    text = (
        f":white_check_mark: {blocks.mention(message.payload['user'])} released #{number}: "
        f"a candidate again (`keep {number}` keeps it)."
    )
    return post_in_thread(
        d,
        message,
        project,
        text,
        [
            blocks.section(text),
            blocks.image_block(file_id, image.prompt or f"#{number}", f"#{number}"),
        ],
    )
