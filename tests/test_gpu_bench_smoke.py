"""bench/gpu_throughput.py --smoke: the GPU benchmark's code, on CPU and a narrow model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("family", [[], ["--sdxl"]], ids=["sd15", "sdxl"])
def test_the_gpu_bench_runs_end_to_end_and_reproduces(family: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "bench/gpu_throughput.py", "--smoke", *family],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert any(line.startswith("atelier runner, 4-image volume run") for line in lines)
    assert "same task twice mean/max diff (0.0, 0.0)" in result.stdout
