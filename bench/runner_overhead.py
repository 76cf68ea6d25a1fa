"""The runner's per-image time over the bare diffusers call, on CPU with the tiny model.

Both paths render the same 16 images (256 px, 4 steps, batches of 4) in one process; the
runs are interleaved and the medians compared. Target: overhead under 10 %.

    python bench/runner_overhead.py [--images 16] [--size 256] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from bot.playbook.service import PlaybookService
from bot.runner.diffusion import backend_for
from bot.runner.worker import Worker
from storage import queue
from storage.db import make_engine, make_sessions, migrate
from storage.files import ImageStore


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="atelier-bench-")
    engine = make_engine(f"sqlite:///{folder}/bench.db")
    migrate(engine)
    sessions = make_sessions(engine)
    project = (
        PlaybookService(sessions).start_project("CBENCH", "U1", "Benchmark images.").project.id
    )
    backend = backend_for("tiny")
    settings = {
        "model": "tiny",
        "scheduler": "EulerDiscreteScheduler",
        "steps": args.steps,
        "guidance": 5.0,
        "width": args.size,
        "height": args.size,
    }
    images = [
        {"prompt": f"a courier at dawn, take {i}", "negative_prompt": "blurry", "seed": 1000 + i}
        for i in range(args.images)
    ]

    def bare() -> float:
        start = time.perf_counter()
        for first in range(0, args.images, args.batch):
            chunk = images[first : first + args.batch]
            backend.base(
                prompt=[image["prompt"] for image in chunk],
                negative_prompt=[image["negative_prompt"] for image in chunk],
                num_inference_steps=args.steps,
                guidance_scale=5.0,
                width=args.size,
                height=args.size,
                generator=[torch.Generator("cpu").manual_seed(image["seed"]) for image in chunk],
            )
        return (time.perf_counter() - start) / args.images

    def runner(round_number: int) -> float:
        with sessions.begin() as s:
            queue.enqueue(
                s,
                channel_id="CBENCH",
                project_id=project,
                kind="volume",
                created_by="U1",
                total=args.images,
                params={"settings": settings, "images": images},
            )
        worker = Worker(
            sessions,
            ImageStore(f"{folder}/images-{round_number}"),
            backend_for,
            batch_size=args.batch,
        )
        start = time.perf_counter()
        while worker.run_once():
            pass
        return (time.perf_counter() - start) / args.images

    bare()  # warm-up
    bare_times, runner_times = [], []
    for round_number in range(args.rounds):
        bare_times.append(bare())
        runner_times.append(runner(round_number))
    bare_median, runner_median = statistics.median(bare_times), statistics.median(runner_times)
    overhead = runner_median / bare_median - 1
    print(
        f"images per run: {args.images} at {args.size}px, {args.steps} steps, batch {args.batch}, threads {torch.get_num_threads()}"
    )
    print(
        f"bare pipeline: {bare_median * 1000:.1f} ms/image (runs: {', '.join(f'{t * 1000:.0f}' for t in bare_times)})"
    )
    print(
        f"atelier runner: {runner_median * 1000:.1f} ms/image (runs: {', '.join(f'{t * 1000:.0f}' for t in runner_times)})"
    )
    print(
        f"runner overhead: {overhead:+.1%} (target < 10%) -> {'PASS' if overhead < 0.10 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
