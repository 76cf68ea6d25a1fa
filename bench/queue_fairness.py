"""Fair turns on a shared queue: does one channel's long run hold another channel's work?

Three channels ask at once — one 30-image volume run (asked first), two 15-image sprints — and
two `atelier runner` processes (the `tiny` model, batches of 4) work through them. Prints when
each channel's first image and fifth image started rendering (seen from the database every
20 ms: a job running for the first time, and running with four images done). Goal: every
channel's first image starts before any channel's fifth.

    python bench/queue_fairness.py [--size 128] [--steps 4] [--runners 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from bot.playbook.service import PlaybookService
from storage import queue
from storage.db import make_engine, make_sessions, migrate
from storage.models import Job

ASKS = [("CVOLUME", "UVERA", "volume", 30), ("CSPRINT1", "USAM", "sprint", 15)]
ASKS += [("CSPRINT2", "USIA", "sprint", 15)]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--runners", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="atelier-fairness-"))
    url = f"sqlite:///{folder}/bench.db"
    engine = make_engine(url)
    migrate(engine)
    sessions = make_sessions(engine)
    service = PlaybookService(sessions)
    settings = {
        "model": "tiny",
        "scheduler": "EulerDiscreteScheduler",
        "steps": args.steps,
        "guidance": 5.0,
        "width": args.size,
        "height": args.size,
    }
    jobs: dict[int, str] = {}
    for channel, person, kind, images in ASKS:
        project = service.start_project(channel, person, "Art for the spring launch.").project
        with sessions.begin() as s:
            job = queue.enqueue(
                s,
                channel_id=channel,
                project_id=project.id,
                kind=kind,
                created_by=person,
                total=images,
                params={
                    "settings": settings,
                    "images": [{"prompt": f"{kind} {n}", "seed": n} for n in range(images)],
                },
            )
            jobs[job.id] = channel
    env = {**os.environ, "ATELIER_DATABASE_URL": url, "ATELIER_IMAGE_STORE": str(folder / "images")}
    started = time.monotonic()
    runners = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "runner",
                "--batch-size",
                "4",
                "--poll-seconds",
                "0.1",
                "--worker-id",
                f"runner-{n}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(args.runners)
    ]
    first: dict[str, float] = {}
    fifth: dict[str, float] = {}
    try:
        while len(fifth) < len(jobs):
            with sessions() as s:
                rows = s.execute(
                    select(Job.id, Job.status, Job.progress_done).where(Job.id.in_(jobs))
                ).all()
            at = time.monotonic() - started
            for job_id, status, done in rows:
                channel = jobs[job_id]
                if status == "running" or done:
                    first.setdefault(channel, at)
                if (status == "running" and done >= 4) or done >= 5:
                    fifth.setdefault(channel, at)
            if at > 600:
                raise SystemExit("no end after 10 minutes; see the runners")
            time.sleep(0.02)
    finally:
        for runner in runners:
            runner.terminate()
            runner.wait(30)
    for channel, person, kind, images in ASKS:
        print(
            f"{channel} ({kind}, {images} images by {person}): first image started at "
            f"{first[channel]:.1f} s, fifth at {fifth[channel]:.1f} s"
        )
    met = max(first.values()) < min(fifth.values())
    print(
        f"latest first start {max(first.values()):.1f} s, earliest fifth {min(fifth.values()):.1f} s "
        f"-> {'PASS' if met else 'FAIL'} (every first before any fifth)"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
