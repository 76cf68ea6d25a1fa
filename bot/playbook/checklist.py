"""The gate's checklist: the playbook's five items, then the channel's own (`settings checklist`).

A brand team adds what its Reviewer must also check ("On brand: palette, type, logo use"); the
playbook's five stay, whatever a channel adds. Items are named by a short key everywhere a
person types one (`sendback 12 brand <note>`), and stored by it (a playbook item by its
GateItem value), so a gate record keeps its meaning after an item is removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.playbook import errors
from bot.playbook.gate import CHECKLIST, REVIEWER_ITEMS, SHORT, GateItem, item_named

MAX_ITEMS = 6  # with the Reviewer's four: 10, the most options Slack's checkboxes take
MAX_TEXT = 200
KEY = re.compile(r"[a-z][a-z0-9-]{1,23}")
PLAYBOOK_KEYS = frozenset(item.value for item in GateItem)


@dataclass(frozen=True)
class Item:
    key: str  # stored: a GateItem's value, or the channel's own key
    short: str  # typed and shown: "license", "brand"
    text: str  # the line the Reviewer reads at the gate
    reviewer: bool = True  # ticked by the Reviewer (LOGGED is ticked by Atelier)
    playbook: bool = True


def items(channel: Sequence[Sequence[str]] = ()) -> list[Item]:
    """Every item, the playbook's first; `channel` is the stored [[key, text], …]."""
    own = [Item(key, key, text, playbook=False) for key, text in channel]
    return [
        Item(item.value, SHORT[item], CHECKLIST[item], item in REVIEWER_ITEMS) for item in GateItem
    ] + own


def named_in(checklist: Sequence[Item], text: str) -> Item | None:
    """An item by a playbook name or synonym (`license`, `alt text`, `logo`) or a channel key."""
    found = item_named(text)
    wanted = found.value if found else " ".join(text.strip().lower().split())
    return next((item for item in checklist if item.key == wanted), None)


def named(text: str, channel: Sequence[Sequence[str]] = ()) -> Item | None:
    return named_in(items(channel), text)


def names(checklist: Sequence[Item]) -> str:
    """The names a send-back takes, for a message that asks for one."""
    return ", ".join(item.short for item in checklist if item.reviewer)


def short(key: str) -> str:
    """What people call a stored item: a playbook item's short name, or the channel's key."""
    return SHORT[GateItem(key)] if key in PLAYBOOK_KEYS else key


def added(channel: Sequence[Sequence[str]], key: str, text: str) -> list[list[str]]:
    """The channel's items with a new one, or a refusal that says how to fix the command."""
    key, text = key.strip().lower(), " ".join(text.split())
    if not KEY.fullmatch(key):
        raise errors.InvalidInput(
            f"`{key}` can't name an item: use 2–24 lowercase letters, digits or dashes, starting "
            'with a letter, e.g. `settings checklist add brand "On brand: palette, type, logo use"`.'
        )
    if not text or len(text) > MAX_TEXT:
        raise errors.InvalidInput(
            f"Give the item the line the Reviewer reads (up to {MAX_TEXT} characters): "
            f'`settings checklist add {key} "On brand: palette, type, logo use"`.'
        )
    taken = named(key, channel)
    if taken is not None:
        whose = "the playbook's" if taken.playbook else "this channel's"
        raise errors.InvalidInput(
            f"`{key}` already names {whose} item “{taken.text}”; pick another name."
        )
    if len(channel) >= MAX_ITEMS:
        raise errors.InvalidInput(
            f"This channel already adds {MAX_ITEMS} items; remove one first "
            "(`settings checklist remove <name>`)."
        )
    return [*map(list, channel), [key, text]]


def removed(channel: Sequence[Sequence[str]], key: str) -> list[list[str]]:
    """The channel's items without `key`; the playbook's five cannot be removed."""
    item = named(key, channel)
    if item is not None and item.playbook:
        raise errors.InvalidInput(
            f"“{item.short}” is one of the playbook's five gate items, which every channel keeps; "
            "only items a channel added can be removed."
        )
    if item is None:
        raise errors.NotFound(
            f"`{key.strip()}` is not on this channel's checklist. `settings checklist` lists it."
        )
    return [list(entry) for entry in channel if entry[0] != item.key]
