"""Two versions of one image side by side, with a heat-map of where they differ.

`compare N M` posts one; the gate shows a repaired or edited image beside its parent with the
same picture, so the Reviewer sees what the repair changed without scrolling up the thread.
"""

from __future__ import annotations

from typing import Any

from bot.imaging import Comparison, compare
from bot.slack.blocks import context, image_block
from bot.slack.sender import Sender
from storage.content_credentials import encode
from storage.models import Image, OutboxMessage
from storage.pngs import read_png

# Versions a gate shows beside their parent: what someone changed by hand or by a repair.
EDITS = ("inpaint", "img2img", "editor")


def upload(
    d: Sender, message: OutboxMessage, before: Image, after: Image
) -> tuple[str, Comparison]:
    """The comparison picture of two images, stored and uploaded once for this outbox message."""
    shown = compare(
        read_png(d.store.get(before.file_hash))[0],
        read_png(d.store.get(after.file_hash))[0],
        (f"#{before.number}", f"#{after.number}"),
    )
    compares = {"compares": [before.number, after.number]}
    digest = d.store.put(encode(shown.image, compares, d.credentials))
    name = f"compare-{before.number}-{after.number}.png"
    return d.upload(message, digest, name, f"#{before.number} vs #{after.number}"), shown


def blocks(before: Image, after: Image, file_id: str, shown: Comparison) -> list[dict[str, Any]]:
    """The picture and the numbers a person reads it by."""
    return [
        image_block(
            file_id,
            f"#{before.number} and #{after.number} side by side, with a map of what changed",
            f"#{before.number} → #{after.number}",
        ),
        context(
            f"#{before.number} → #{after.number}: {shown.changed_share:.1%} of the pixels changed "
            f"(mean difference {shown.mean_diff:.1f} of 255). Red to yellow marks where, by how much."
        ),
    ]
