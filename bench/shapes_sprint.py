"""A 15-image concept sprint with the built-in `shapes` model, through the real runner, on CPU.

The job the sprint verb queues (3 styles × 5, draft steps, 64×64), rendered by a Worker
exactly as `atelier serve` would: images, PNG metadata, the store and the moodboard sheet.
The model is loaded first (it stays loaded in a runner); the sprint is timed alone. Goal:
≤ 30 s on 2 CPU cores.

    python bench/shapes_sprint.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from bot.playbook.presets import PRESETS
from bot.playbook.service import PlaybookService
from bot.runner.diffusion import backend_for
from bot.runner.worker import Worker
from storage import queue
from storage.db import make_engine, make_sessions, migrate
from storage.files import ImageStore

STYLES = ("flat", "watercolor", "film photo")
SUBJECT = "a red circle on a blue background"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="atelier-bench-")
    engine = make_engine(f"sqlite:///{folder}/bench.db")
    migrate(engine)
    sessions = make_sessions(engine)
    project = PlaybookService(sessions).start_project("CBENCH", "U1", "Shapes.").project.id
    preset = PRESETS["shapes"]
    settings = {
        "model": "shapes",
        "scheduler": preset.scheduler,
        "steps": preset.draft_steps,
        "guidance": preset.guidance,
        "width": preset.size,
        "height": preset.size,
    }
    started = time.perf_counter()
    backend_for("shapes")
    print(f"model loaded in {time.perf_counter() - started:.1f} s")
    times = []
    for round_number in range(args.rounds):
        images = [
            {
                "prompt": f"{SUBJECT}, {STYLES[i % 3]}",
                "negative_prompt": "",
                "style": STYLES[i % 3],
                "slot_value": SUBJECT,
                "seed": 5000 + 100 * round_number + i,
            }
            for i in range(15)
        ]
        with sessions.begin() as s:
            queue.enqueue(
                s,
                channel_id="CBENCH",
                project_id=project,
                kind="sprint",
                created_by="U1",
                total=15,
                params={
                    "settings": settings,
                    "images": images,
                    "subject": SUBJECT,
                    "styles": STYLES,
                },
            )
        worker = Worker(sessions, ImageStore(f"{folder}/images"), backend_for)
        start = time.perf_counter()
        while worker.run_once():
            pass
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"15-image sprint, {preset.draft_steps} steps, {preset.size}px, threads "
        f"{torch.get_num_threads()}: median {median:.1f} s (runs: "
        f"{', '.join(f'{t:.1f}' for t in times)}); goal ≤ 30 s -> {'PASS' if median <= 30 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
