"""What writing Content Credentials costs the runner, against the render it follows (#23).

Renders `--rounds` batches with the tiny model (the size and steps a sprint uses), then, for
each picture, times what the runner adds per image: the PNG alone (to_png, with XMP), and the
C2PA signing on top — a first render (no ingredient) and a repair (its parent's PNG, with its
manifest, as the ingredient). Target: signing under 10 % of the render's time per image.

    python bench/credentials_cost.py [--size 256] [--steps 4] [--batch 4] [--rounds 5]

Without `--cert`/`--key` it signs with a throwaway CA's certificate (tests/certificates.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.runner.backend import GenTask  # noqa: E402
from bot.runner.diffusion import backend_for  # noqa: E402
from storage.content_credentials import Credentials  # noqa: E402
from storage.pngs import to_png  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cert", help="ATELIER_C2PA_CERT (default: a throwaway CA's)")
    parser.add_argument("--key", help="ATELIER_C2PA_KEY")
    args = parser.parse_args()
    credentials = _credentials(args)

    # 1. Render, timing each batch: the cost a picture already has.
    backend = backend_for("tiny")
    tasks = [
        GenTask(
            "a courier", "", seed, args.steps, 5.0, args.size, args.size, "EulerDiscreteScheduler"
        )
        for seed in range(args.batch)
    ]
    backend.text_to_image(tasks)  # warm-up
    per_image, pictures = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        pictures = backend.text_to_image(tasks)
        per_image.append((time.perf_counter() - start) / args.batch)
    render = statistics.median(per_image)

    # 2. What the runner does per picture: the PNG, then the signature.
    params = {**tasks[0].as_dict(), "model_id": "tiny", "model_hash": backend.model_hash}
    repair = {**params, "parent": 1}
    parent = credentials.sign(to_png(pictures[0], params), params)
    encode = _median(lambda: [to_png(p, params) for p in pictures]) / len(pictures)
    pngs = [to_png(p, params) for p in pictures]
    made = _median(lambda: [credentials.sign(png, params) for png in pngs]) / len(pngs)
    fixed = _median(lambda: [credentials.sign(png, repair, parent) for png in pngs]) / len(pngs)

    print(f"tiny model, {args.size} px, {args.steps} steps, batch {args.batch}:")
    print(f"  render            {render * 1000:8.1f} ms per image")
    print(f"  PNG + XMP         {encode * 1000:8.1f} ms ({encode / render:.1%} of the render)")
    for name, seconds in (("sign (created)", made), ("sign (repair)", fixed)):
        share = seconds / render
        verdict = "PASS" if share < 0.10 else "FAIL"
        print(f"  {name:<17} {seconds * 1000:8.1f} ms ({share:.1%} of the render)  {verdict}")


def _median(work: Callable[[], object], repeats: int = 7) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def _credentials(args: argparse.Namespace) -> Credentials:
    if args.cert and args.key:
        configured = Credentials.configured(args.cert, args.key)
        assert configured is not None
        return configured
    from tests.certificates import make_certificates

    made = make_certificates(Path(tempfile.mkdtemp(prefix="atelier-c2pa-")))
    configured = Credentials.configured(str(made.chain), str(made.key))
    assert configured is not None
    return configured


if __name__ == "__main__":
    main()
