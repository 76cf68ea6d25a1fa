"""The ack-latency bench, short: a few seconds of mixed signed load, every request takes effect."""

from __future__ import annotations

from pathlib import Path

from bot.workbench.load import KINDS, PEOPLE, drive, prepare
from bot.workbench.local import LocalProcesses
from storage.db import make_engine, make_sessions


def test_every_request_under_load_is_answered_and_takes_effect(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/atelier.db"
    with LocalProcesses(url, tmp_path / "s", PEOPLE, tmp_path / "logs") as stack:
        stack.start_runner("r1")
        busy = prepare(stack, volume_runs=1)
        report = drive(stack, busy, make_sessions(make_engine(url)), seconds=4, rate=20)
    assert len(report.sent) == 80 and {s.kind for s in report.sent} == set(KINDS)
    assert not report.errors and not report.lost, "\n".join(report.lines())
    assert report.busy > 0.5, "the runner should have been working during the load"
