"""The crash bench's short form: real processes killed under load, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_kill_9_under_load_loses_and_doubles_nothing_acked() -> None:
    """bench/crash_recovery.py --short: 60 requests, serve and the runner each killed once."""
    result = subprocess.run(
        [sys.executable, "bench/crash_recovery.py", "--short", "--seed", "7"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    report = result.stdout + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert report.count("lost 0; duplicated 0") == 2, report
