"""The runner's per-image time over the bare diffusers call, on CPU with the tiny model.

Both paths render the same images — a queue of `--jobs` sprints of `--images` each (256 px,
4 steps, batches of 4) — in one process; the runs are interleaved and the medians compared.
Target: overhead under 5 %.

Where the runner's time goes is printed too, from the render calls' own clock: the gap
between one render and the next (what the device idles: between batches of a job, and from
one job's last batch to the next job's first), the time before the first render (claiming,
reading the job) and after the last (saving the last batch, the contact sheet, completing
the job: the part of a job only the next job can hide, so `--jobs 1` shows it whole).

On this CPU the render and the runner's saving share the cores, so moving the saving off
the render path hides only what the render leaves idle. `--device-wait` models a GPU host,
where the render leaves the CPU free: each render becomes a wait as long as a measured real
render of the batch (in both paths), and what remains is the runner's own time.

    python bench/runner_overhead.py [--jobs 4] [--images 16] [--size 256] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence

import torch
from PIL import Image

from bot.playbook.service import PlaybookService
from bot.runner.backend import GenTask
from bot.runner.diffusion import DiffusersBackend, backend_for
from bot.runner.worker import Worker
from storage import queue
from storage.db import make_engine, make_sessions, migrate
from storage.files import ImageStore


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--images", type=int, default=16, help="per job")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--device-wait", action="store_true", help="renders wait as a GPU's would (see above)"
    )
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="atelier-bench-")
    engine = make_engine(f"sqlite:///{folder}/bench.db")
    migrate(engine)
    sessions = make_sessions(engine)
    project = (
        PlaybookService(sessions).start_project("CBENCH", "U1", "Benchmark images.").project.id
    )
    backend = backend_for("tiny")
    renders: list[tuple[float, float]] = []  # (start, end) of each runner render call
    text_to_image: Callable[[Sequence[GenTask]], list[Image.Image]] = backend.text_to_image
    if args.device_wait:
        text_to_image = _device_wait(backend, args)

    def timed(tasks: Sequence[GenTask]) -> list[Image.Image]:
        start = time.perf_counter()
        try:
            return text_to_image(tasks)
        finally:
            renders.append((start, time.perf_counter()))

    backend.text_to_image = timed  # type: ignore[method-assign]
    settings = {
        "model": "tiny",
        "scheduler": "EulerDiscreteScheduler",
        "steps": args.steps,
        "guidance": 5.0,
        "width": args.size,
        "height": args.size,
    }
    jobs = [
        [
            {
                "prompt": f"a courier at dawn, job {job} take {i}",
                "negative_prompt": "blurry",
                "seed": 1000 * job + i,
            }
            for i in range(args.images)
        ]
        for job in range(args.jobs)
    ]
    total = args.jobs * args.images

    def bare() -> float:
        start = time.perf_counter()
        for images, first in ((i, f) for i in jobs for f in range(0, args.images, args.batch)):
            chunk = images[first : first + args.batch]
            if args.device_wait:
                text_to_image([])
                continue
            backend.base(
                prompt=[image["prompt"] for image in chunk],
                negative_prompt=[image["negative_prompt"] for image in chunk],
                num_inference_steps=args.steps,
                guidance_scale=5.0,
                width=args.size,
                height=args.size,
                generator=[
                    torch.Generator("cpu").manual_seed(int(str(image["seed"]))) for image in chunk
                ],
            )
        return (time.perf_counter() - start) / total

    edges: list[tuple[float, float]] = []  # (start, end) of each runner run

    def runner(round_number: int) -> float:
        with sessions.begin() as s:
            for images in jobs:
                queue.enqueue(
                    s,
                    channel_id="CBENCH",
                    project_id=project,
                    kind="sprint",
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
        edges.append((start, time.perf_counter()))
        return (time.perf_counter() - start) / total

    bare()  # warm-up
    bare_times, runner_times = [], []
    for round_number in range(args.rounds):
        bare_times.append(bare())
        runner_times.append(runner(round_number))
    bare_median, runner_median = statistics.median(bare_times), statistics.median(runner_times)
    overhead = runner_median / bare_median - 1
    print(
        f"images per run: {args.jobs} jobs of {args.images} at {args.size}px, {args.steps} steps, batch {args.batch}, threads {torch.get_num_threads()}"
    )
    print(
        f"bare pipeline: {bare_median * 1000:.1f} ms/image (runs: {', '.join(f'{t * 1000:.0f}' for t in bare_times)})"
    )
    print(
        f"atelier runner: {runner_median * 1000:.1f} ms/image (runs: {', '.join(f'{t * 1000:.0f}' for t in runner_times)})"
    )
    gaps, heads, tails = _gaps(renders, edges)
    rendering = sum(end - start for start, end in renders) / (args.rounds * total)
    print(f"of which the runner's render calls: {rendering * 1000:.1f} ms/image")
    print(
        f"between renders: {statistics.median(gaps) * 1000:.1f} ms median gap, {max(gaps) * 1000:.1f} ms longest; "
        f"before the first render {statistics.median(heads) * 1000:.0f} ms, after the last {statistics.median(tails) * 1000:.0f} ms"
    )
    print(
        f"runner overhead: {overhead:+.1%} (target < 5%) -> {'PASS' if overhead < 0.05 else 'FAIL'}"
    )


def _device_wait(
    backend: DiffusersBackend, args: argparse.Namespace
) -> Callable[[Sequence[GenTask]], list[Image.Image]]:
    """A render that waits as long as a real one of a batch took, with its pictures."""
    task = GenTask(
        "a courier", "", 1, args.steps, 5.0, args.size, args.size, "EulerDiscreteScheduler"
    )
    timings, pictures = [], []
    for _ in range(3):
        start = time.perf_counter()
        pictures = backend.text_to_image([task] * args.batch)
        timings.append(time.perf_counter() - start)
    seconds = statistics.median(timings)
    print(
        f"device wait: {seconds * 1000:.0f} ms per batch of {args.batch} (a real render's median)"
    )

    def render(tasks: Sequence[GenTask]) -> list[Image.Image]:
        time.sleep(seconds)
        return pictures[: len(tasks)]

    return render


def _gaps(
    renders: list[tuple[float, float]], edges: list[tuple[float, float]]
) -> tuple[list[float], list[float], list[float]]:
    """Idle device time per run: between renders, before the first and after the last."""
    gaps, heads, tails = [], [], []
    for run_start, run_end in edges:
        inside = [r for r in renders if run_start <= r[0] <= run_end]
        gaps += [b[0] - a[1] for a, b in zip(inside, inside[1:], strict=False)]
        heads.append(inside[0][0] - run_start)
        tails.append(run_end - inside[-1][1])
    return gaps, heads, tails


if __name__ == "__main__":
    main()
