"""The ship pack as one zip: the finals as full-size PNGs, finals.csv, recipes, gate and audit.

The PNGs are the stored files byte for byte, so their metadata (the prompt, the seed, the
recipe) travels with them. Used by the `ship` post in Slack and by `atelier export --zip`.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.playbook import checklist
from bot.playbook.gate import GateItem
from bot.playbook.tools.ship import ShipRecord
from storage.content_credentials import trust_anchors, verify
from storage.files import PIECE, ImageStore

FINALS_COLUMNS = [
    "number",
    "file",
    "alt_text",
    "cleared_by",
    "cleared_at",
    *GateItem,
    "content_credentials",  # `atelier verify`'s verdict: valid/trusted, signer, actions; or none
]
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def final_name(number: int) -> str:
    return f"finals/final-{number}.png"


def write(record: ShipRecord, store: ImageStore, target: Path) -> int:
    """Write the zip to `target`; returns its size in bytes.

    Each final is copied from the store in pieces, never held whole, so a pack of any size
    costs the same little memory; PNGs are stored as they are (already compressed), the rest
    deflated.
    """
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as pack:
        for final in record.finals:
            entry = zipfile.ZipInfo(final_name(final.number), time.localtime()[:6])
            entry.compress_type = zipfile.ZIP_STORED
            with store.open(final.file_hash) as source, pack.open(entry, "w") as sink:
                shutil.copyfileobj(source, sink, PIECE)
        pack.writestr("finals.csv", _finals_csv(record, _credentials(record, store)))
        pack.writestr("recipes.json", _json(record.recipes))
        pack.writestr("gate.json", _json(record.gate))
        pack.writestr("audit.json", _json(record.audit))
        pack.writestr("README.txt", _readme(record))
    return target.stat().st_size


def filename(record: ShipRecord) -> str:
    return f"atelier-p{record.project_id}-ship-pack.zip"


def _credentials(record: ShipRecord, store: ImageStore) -> dict[int, str]:
    """Each final's Content Credentials, read as a client's tools would (streamed, not held)."""
    anchors = trust_anchors()
    verdicts = {}
    for final in record.finals:
        with store.open(final.file_hash) as source:
            verdicts[final.number] = verify(source, anchors).summary()
    return verdicts


def _finals_csv(record: ShipRecord, credentials: dict[int, str]) -> str:
    out = io.StringIO()
    # The channel's own checklist items, as the finals' gate passes recorded them.
    own = {
        key: None
        for final in record.finals
        for key in final.checklist
        if key not in checklist.PLAYBOOK_KEYS
    }
    writer = csv.DictWriter(out, [*FINALS_COLUMNS[:-1], *own, FINALS_COLUMNS[-1]])
    writer.writeheader()
    for final in record.finals:
        row: dict[str, Any] = asdict(final)
        row.pop("file_hash")
        row.update(row.pop("checklist"))
        writer.writerow(
            {name: inert(value) for name, value in row.items()}
            | {"file": final_name(final.number), "content_credentials": credentials[final.number]}
        )
    return out.getvalue()


def inert(value: Any) -> Any:
    """Text a spreadsheet shows as text: a leading formula character gets a `'` before it.

    The pack goes to clients, who open finals.csv in Excel or Sheets; alt text is typed by
    people in the channel, so `=HYPERLINK(…)` must arrive as words, not as a live formula.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2, ensure_ascii=False, default=str)


def _readme(record: ShipRecord) -> str:
    return (
        f"Atelier ship pack, project {record.project_id}: {record.intent}\n\n"
        f"finals/       {len(record.finals)} cleared final(s), full size, metadata in each PNG\n"
        "finals.csv    number, file, alt text, who cleared it and when, the checklist, and\n"
        "              each final's Content Credentials (C2PA; `atelier verify FILE` checks one)\n"
        "recipes.json  the recipe card(s)\n"
        "gate.json     every pass of the review gate, send-backs included\n"
        "audit.json    every decision, by whom and in which hat\n\n"
        f"GPU time: {record.gpu_seconds / 60:.1f} minutes of rendering on the runners, every "
        "image of the project counted (candidates, repairs and re-checks too)\n"
    )
