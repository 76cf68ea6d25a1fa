"""The ship pack as one zip: the finals as full-size PNGs, finals.csv, recipes, gate and audit.

The PNGs are the stored files byte for byte, so their metadata (the prompt, the seed, the
recipe) travels with them. Used by the `ship` post in Slack and by `atelier export --zip`.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import asdict
from typing import Any

from bot.playbook.gate import GateItem
from bot.playbook.plays.ship import ShipRecord
from storage.files import ImageStore

FINALS_COLUMNS = ["number", "file", "alt_text", "cleared_by", "cleared_at", *GateItem]


def final_name(number: int) -> str:
    return f"finals/final-{number}.png"


def build(record: ShipRecord, store: ImageStore) -> bytes:
    """The zip's bytes; PNGs are stored as they are (already compressed), the rest deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as pack:
        for final in record.finals:
            pack.writestr(final_name(final.number), store.get(final.file_hash), zipfile.ZIP_STORED)
        pack.writestr("finals.csv", _finals_csv(record))
        pack.writestr("recipes.json", _json(record.recipes))
        pack.writestr("gate.json", _json(record.gate))
        pack.writestr("audit.json", _json(record.audit))
        pack.writestr("README.txt", _readme(record))
    return buffer.getvalue()


def filename(record: ShipRecord) -> str:
    return f"atelier-p{record.project_id}-ship-pack.zip"


def _finals_csv(record: ShipRecord) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, FINALS_COLUMNS)
    writer.writeheader()
    for final in record.finals:
        row: dict[str, Any] = asdict(final)
        row.pop("file_hash")
        row.update(row.pop("checklist"))
        writer.writerow({**row, "file": final_name(final.number)})
    return out.getvalue()


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2, ensure_ascii=False, default=str)


def _readme(record: ShipRecord) -> str:
    return (
        f"Atelier ship pack, project {record.project_id}: {record.intent}\n\n"
        f"finals/       {len(record.finals)} cleared final(s), full size, metadata in each PNG\n"
        "finals.csv    number, file, alt text, who cleared it and when, the checklist\n"
        "recipes.json  the recipe card(s)\n"
        "gate.json     every pass of the review gate, send-backs included\n"
        "audit.json    every decision, by whom and in which hat\n"
    )
