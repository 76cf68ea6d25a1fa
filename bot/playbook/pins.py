"""Pinned regions: the grid cells a send-back points at, open until a later version is cleared.

A send-back that names cells (`sendback 12 brand b2 c2 logo too big`) says *where*, as approval
tools pin comments; `fix 12` then repairs those cells, `info 12` lists them, and clearing a
version of the image at the gate resolves every open pin on its history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.imaging import GRID
from storage.gate_models import GatePin
from storage.models import Image


def cell_name(cell: int) -> str:
    """`b2` for cell 4: column letter, row number (the grid `fix` takes)."""
    return "abc"[cell % GRID] + str(cell // GRID + 1)


def cell_names(cells: list[int]) -> str:
    return " ".join(cell_name(cell) for cell in sorted(cells))


@dataclass(frozen=True)
class PinView:
    """A pin as `info`, the fix and the ship pack's gate record show it."""

    number: int  # the image it was pinned on
    cells: list[int]
    item: str
    note: str
    resolved_by: int | None  # the cleared version's number

    def describe(self) -> str:
        where = cell_names(self.cells)
        state = f"resolved: #{self.resolved_by} cleared" if self.resolved_by else "open"
        note = f" — {self.note}" if self.note else ""
        return f"#{self.number} {where} ({self.item}){note} · {state}"


def lineage(s: Session, image: Image) -> list[Image]:
    """The image and every version it came from, newest first."""
    chain = [image]
    while chain[-1].parent_id is not None and len(chain) < 100:
        parent = s.get(Image, chain[-1].parent_id)
        if parent is None:
            break
        chain.append(parent)
    return chain


def pins_of(s: Session, image: Image) -> list[GatePin]:
    """Every pin on the image's history, oldest first."""
    ids = [version.id for version in lineage(s, image)]
    return list(s.scalars(select(GatePin).where(GatePin.image_id.in_(ids)).order_by(GatePin.id)))


def open_cells(s: Session, image: Image) -> list[int]:
    """The cells the open pins on this image's history point at: what `fix N` repairs."""
    return sorted(
        {cell for pin in pins_of(s, image) if pin.resolved_at is None for cell in pin.cells}
    )


def resolve(s: Session, cleared: Image, when: datetime) -> int:
    """Clearing a version resolves the open pins on it and on every version before it."""
    resolved = 0
    for pin in pins_of(s, cleared):
        if pin.resolved_at is None:
            pin.resolved_by_id, pin.resolved_at = cleared.id, when
            resolved += 1
    return resolved


def view(pin: GatePin) -> PinView:
    return PinView(
        pin.image.number,
        list(pin.cells),
        pin.item,
        pin.note or "",
        pin.resolved_by.number if pin.resolved_by else None,
    )
