"""The daily digest's queries over 100,000 generations and 10,000 reviews, on SQLite and PostgreSQL.

Fills a fresh database per backend (10 channels, 200 projects, 8 weeks of history), then times
`digest_data` — every query the digest runs — for one channel. Target: under one second each.

    python bench/digest_query.py [--images 100000] [--reviews 10000] [--pg postgresql://…/test]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine

from bot.playbook.service import PlaybookService
from storage.db import make_engine, make_sessions, migrate
from storage.gate_models import GateReview
from storage.models import AuditEntry, Image, Project

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CHANNELS = [f"C{n:03d}" for n in range(10)]


def fill(engine: Engine, images: int, reviews: int) -> None:
    rng = random.Random(7)
    with engine.begin() as connection:
        connection.execute(
            insert(Project),
            [
                {
                    "id": p + 1,
                    "channel_id": CHANNELS[p % 10],
                    "intent": f"Project {p}.",
                    "state": "paused" if p % 25 == 0 else "active",
                    "pause_detail": "the recipe isn't real yet" if p % 25 == 0 else None,
                    "director": "D",
                    "operator": "O",
                    "reviewer": "R",
                    "model": "tiny",
                    "iteration_budget": 8,
                    "review_cooloff_minutes": 10,
                    "next_image_number": 1,
                    "created_by": "D",
                    "created_at": NOW - timedelta(days=rng.uniform(1, 60)),
                    "hero_approved_at": NOW - timedelta(days=rng.uniform(0, 56)),
                }
                for p in range(200)
            ],
        )
        rows = []
        for n in range(images):
            project = n % 200 + 1
            parent = n - 200 if n >= 200 and rng.random() < 0.3 else None
            created = NOW - timedelta(seconds=rng.uniform(0, 56 * 86400))
            rows.append(
                {
                    "id": n + 1,
                    "project_id": project,
                    "number": n // 200 + 1,
                    "play": "volume",
                    "kind": "inpaint" if parent else "txt2img",
                    "status": "kept" if rng.random() < 0.25 else "candidate",
                    "prompt": "p",
                    "negative_prompt": "",
                    "seed": n,
                    "width": 64,
                    "height": 64,
                    "parent_id": parent + 1 if parent is not None else None,
                    "root_id": None,
                    "file_hash": "0" * 64,
                    "created_by": "O",
                    "created_at": created,
                    "kept_at": created if rng.random() < 0.25 else None,
                }
            )
        for row in rows:
            parent = row["parent_id"]
            row["root_id"] = rows[parent - 1]["root_id"] if parent else row["id"]
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Image), rows[start : start + 5000])
        connection.execute(
            insert(GateReview),
            [
                {
                    "project_id": rows[i]["project_id"],
                    "image_id": rows[i]["id"],
                    "reviewer": "R",
                    "hat": "reviewer",
                    "decision": "sent_back" if rng.random() < 0.3 else "cleared",
                    "reason_item": "license_permits_use",
                    "created_at": NOW - timedelta(seconds=rng.uniform(0, 56 * 86400)),
                }
                for i in rng.sample(range(images), reviews)
            ],
        )
        connection.execute(
            insert(AuditEntry),
            [
                {
                    "project_id": p % 200 + 1,
                    "channel_id": CHANNELS[p % 10],
                    "actor": "O",
                    "hat": "operator",
                    "action": "mark",
                    "detail": {},
                    "created_at": NOW - timedelta(hours=rng.uniform(0, 72)),
                }
                for p in range(5000)
            ],
        )


def measure(name: str, engine: Engine, images: int, reviews: int) -> float:
    migrate(engine)
    started = time.perf_counter()
    fill(engine, images, reviews)
    filled = time.perf_counter() - started
    service = PlaybookService(make_sessions(engine))
    service.digest_data(CHANNELS[0], NOW)  # warm the connection and caches
    runs = []
    for channel in CHANNELS[:5]:
        began = time.perf_counter()
        data = service.digest_data(channel, NOW)
        runs.append(time.perf_counter() - began)
    worst = max(runs)
    print(
        f"{name}: filled {images:,} generations + {reviews:,} reviews in {filled:.1f}s; "
        f"digest queries {min(runs) * 1000:.0f}–{worst * 1000:.0f} ms per channel "
        f"(keep rate n={data.current[0].count}) -> {'PASS' if worst < 1 else 'FAIL'} (< 1 s)"
    )
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="atelier-digest-bench-")
    measure("SQLite", make_engine(f"sqlite:///{folder}/bench.db"), args.images, args.reviews)
    name = f"atelier_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        args.pg.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(args.pg.rsplit("/", 1)[0] + "/" + name)
        measure("PostgreSQL", engine, args.images, args.reviews)
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
