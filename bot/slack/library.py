"""`/atelier recipes`: the channel's approved recipes with their heroes on one contact sheet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.imaging import Tile, contact_sheet
from bot.playbook.service import LibraryEntry
from bot.slack.blocks import context, escape, image_block, section
from bot.slack.context import Atelier
from storage.content_credentials import encode
from storage.pngs import read_png


def library_blocks(
    atelier: Atelier, entries: Sequence[LibraryEntry]
) -> tuple[str, list[dict[str, Any]]]:
    """One line per recipe (keep rate, finals, how to start from it) under its heroes' sheet."""
    if not entries:
        return (
            "This channel has no approved recipes yet. A recipe joins the library when the "
            "Director approves its hero.",
            [],
        )
    lines = [_line(entry) for entry in entries]
    shown: list[dict[str, Any]] = [section(f":books: *Recipe library* — {len(entries)} approved")]
    heroes = [entry for entry in entries if entry.hero is not None]
    if heroes:
        shown.append(_sheet(atelier, heroes))
    shown += [section(line) for line in lines]
    shown.append(
        context("Start from one: `/atelier new <intent> from recipe P3v2` (the sprint is skipped).")
    )
    return "Recipe library:\n" + "\n".join(lines), shown


def _line(entry: LibraryEntry) -> str:
    recipe = entry.recipe
    rate = (
        f"{entry.kept / entry.generated:.0%} ({entry.kept} of {entry.generated})"
        if entry.generated
        else "no volume run yet"
    )
    hero = f"hero #{entry.hero.number}" if entry.hero else "no hero"
    return (
        f"*{entry.name}* — {escape(entry.intent)}\n"
        f"`{escape(recipe.prompt_template)}` · `{escape(recipe.model_id)}` "
        f"{recipe.width}×{recipe.height} · {hero} · keep rate {rate} · "
        f"{entry.finals} final{'s' if entry.finals != 1 else ''}"
    )


def _sheet(atelier: Atelier, heroes: Sequence[LibraryEntry]) -> dict[str, Any]:
    tiles = [
        Tile(read_png(atelier.store.get(entry.hero.file_hash))[0], entry.hero.number, entry.name)
        for entry in heroes
        if entry.hero is not None
    ]
    sheet = encode(
        contact_sheet(tiles, tile_size=128),
        {"recipe_library": [e.name for e in heroes]},
        atelier.credentials,
    )
    uploaded = atelier.client.files_upload_v2(
        content=sheet, filename="recipe-library.png", title="Recipe library"
    )
    file_id = str(uploaded["file"]["id"])
    return image_block(file_id, "The heroes of the channel's approved recipes", "Heroes")
