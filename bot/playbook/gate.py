"""The review gate's checklist and the prompt-term hints shown before the Reviewer looks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class GateItem(StrEnum):
    PEOPLE_LOGOS_ARTISTS = "clear_of_people_logos_artists"
    LICENSE = "license_permits_use"
    CONTENT = "no_offensive_content"
    ALT_TEXT = "alt_text_written"
    LOGGED = "logged_with_recipe"


CHECKLIST: dict[GateItem, str] = {
    GateItem.PEOPLE_LOGOS_ARTISTS: (
        "No recognizable real people, branded logos, or living-artist style mimicry "
        "unless explicitly cleared"
    ),
    GateItem.LICENSE: "License terms permit the intended commercial use",
    GateItem.CONTENT: "No offensive or biased content slipped through",
    GateItem.ALT_TEXT: "Alt text and accessibility considerations addressed",
    GateItem.LOGGED: "The image is logged with its recipe for future reproduction",
}

# The Reviewer ticks these; LOGGED is ticked by the system when it is true.
REVIEWER_ITEMS = (
    GateItem.PEOPLE_LOGOS_ARTISTS,
    GateItem.LICENSE,
    GateItem.CONTENT,
    GateItem.ALT_TEXT,
)

SHORT: dict[GateItem, str] = {
    GateItem.PEOPLE_LOGOS_ARTISTS: "people/logos/artists",
    GateItem.LICENSE: "license",
    GateItem.CONTENT: "content",
    GateItem.ALT_TEXT: "alt text",
    GateItem.LOGGED: "logged",
}


_SYNONYMS: dict[str, GateItem] = {
    "people": GateItem.PEOPLE_LOGOS_ARTISTS,
    "logos": GateItem.PEOPLE_LOGOS_ARTISTS,
    "logo": GateItem.PEOPLE_LOGOS_ARTISTS,
    "artists": GateItem.PEOPLE_LOGOS_ARTISTS,
    "artist": GateItem.PEOPLE_LOGOS_ARTISTS,
    "alt": GateItem.ALT_TEXT,
    "accessibility": GateItem.ALT_TEXT,
    "offensive": GateItem.CONTENT,
    "bias": GateItem.CONTENT,
    "licence": GateItem.LICENSE,
    "licensing": GateItem.LICENSE,
    "recipe": GateItem.LOGGED,
}


def item_named(text: str) -> GateItem | None:
    """An item by its value, its short name (`license`, `alt text`, …) or a synonym."""
    wanted = " ".join(text.strip().lower().replace("_", " ").split())
    for item in GateItem:
        if wanted in (item.value.replace("_", " "), SHORT[item]):
            return item
    return _SYNONYMS.get(wanted)


@dataclass(frozen=True)
class Hint:
    term: str
    why: str


_STYLE_OF = re.compile(
    r"\b(?:in the style of|style of|by|after|inspired by)\s+([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)"
)
_PROPER_NAME = re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)\b")
_BRAND_WORDS = re.compile(
    r"\b(logo|brand(?:ed)?|trademark|nike|adidas|apple|coca[- ]cola|pepsi|disney|marvel|"
    r"starbucks|mcdonald'?s|google|microsoft|tesla|ferrari|lego|pokemon|gucci|louis vuitton)\b",
    re.I,
)
_PERSON_WORDS = re.compile(r"\b(celebrity|famous|president|actor|actress|portrait of)\b", re.I)


def hints(prompt: str) -> list[Hint]:
    """Terms that hint at real people, brands or artist mimicry: a hint, never a decision."""
    found: dict[str, Hint] = {}
    for match in _STYLE_OF.finditer(prompt):
        found.setdefault(
            match.group(0), Hint(match.group(0), "names a style source (living artist?)")
        )
    for match in _BRAND_WORDS.finditer(prompt):
        found.setdefault(match.group(0), Hint(match.group(0), "brand or logo"))
    for match in _PERSON_WORDS.finditer(prompt):
        found.setdefault(match.group(0), Hint(match.group(0), "may depict a real person"))
    covered = " ".join(found)
    for match in _PROPER_NAME.finditer(prompt):
        if match.group(1) not in covered:
            found.setdefault(match.group(1), Hint(match.group(1), "proper name (person or brand?)"))
    return list(found.values())
