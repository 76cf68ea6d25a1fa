"""Hostile uploads against a real `atelier serve`: refused before download or decode, nothing stored."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from bot.workbench import walk
from bot.workbench.local import LocalProcesses
from tests.workbench import CHANNEL, INTENT, NAMES, OPERATOR, TEAM

STRANGERS = [f"USTRANGER{n}" for n in range(4)]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(side: int, *, rows: int | None = None) -> bytes:
    """A PNG of `side`×`side` black pixels: valid and small (zeros compress), huge decoded.

    `rows` stops the pixel data early: a header that claims more than the file holds.
    """
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * side * 3
    body = b"".join(compressor.compress(row) for _ in range(side if rows is None else rows))
    body += compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", body)
        + _chunk(b"IEND", b"")
    )


def _bmp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, format="BMP")
    return buffer.getvalue()


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _stored(store: Path) -> set[Path]:
    return set(store.rglob("*.png"))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bombs_from_strangers_and_the_editor_cost_no_memory_and_store_nothing(
    db_url: str, tmp_path: Path
) -> None:
    users = {**NAMES, **{stranger: stranger.lower() for stranger in STRANGERS}, "UEDITOR": "eddie"}
    bomb = png_claiming(12_000)
    assert len(bomb) < 1024 * 1024  # small on the wire
    with LocalProcesses(db_url, tmp_path / "store", users, tmp_path / "logs") as stack:
        stack.start_runner("r1", "--poll-seconds", "0.2")
        thread, _, numbers = walk.to_volume(stack, TEAM, INTENT)
        slack = stack.standin
        slack.say(OPERATOR, CHANNEL, f"handoff {numbers[0]} <@UEDITOR>", thread_ts=thread)
        stack.message(CHANNEL, thread, "is with")
        before = _stored(tmp_path / "store")
        for stranger in STRANGERS:
            slack.upload(stranger, CHANNEL, "poster.png", bomb, thread_ts=thread)
        for stranger in STRANGERS:
            stack.ephemeral(stranger, "No image is handed to you")
        refusals = [
            ("big.png", bomb, "takes images up to 512×512"),
            ("huge.png", png_claiming(50_000, rows=1), "claims more pixels"),
            ("paint.bmp", _bmp(), "upload a PNG or JPEG"),
            ("renamed.png", _bmp(), "upload a PNG or JPEG"),
        ]
        for name, data, _ in refusals:
            slack.upload("UEDITOR", CHANNEL, name, data, thread_ts=thread)
        for name, _, says in refusals:
            stack.wait(
                lambda name=name, says=says: any(
                    name in e["text"] and says in e["text"] for e in slack.ephemerals_for("UEDITOR")
                ),
                30,
                f"the refusal of {name}",
            )
        peak = _peak_rss_mb(stack.server.pid)
        assert _stored(tmp_path / "store") == before
    print(f"serve peak RSS while refusing the bombs: {peak:.0f} MB")
    assert peak < 300, f"serve peaked at {peak:.0f} MB"
    assert "Traceback" not in (tmp_path / "logs" / "serve.log").read_text()
