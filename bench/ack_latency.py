"""Ack latency under load: signed commands, thread replies and clicks into `atelier serve --http`.

Starts the stand-in Slack here and `atelier serve --http` plus one `atelier runner` as real
processes, takes a project to its volume stage with 2,000 images queued so the runner stays busy,
then sends 20 requests a second for 60 seconds (open loop: one every 50 ms whatever the answers
do). Prints p50/p99 ack latency and errors, then reads the database to check that every request
had its effect. Target on a 2-core machine: p99 under 300 ms at 20 requests/s, nothing lost.

    python bench/ack_latency.py [--seconds 60] [--rate 20] [--runner process|thread] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url, text

from bot.workbench.load import PEOPLE, drive, prepare
from bot.workbench.local import LocalProcesses
from storage.db import make_engine, make_sessions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument(
        "--runner",
        choices=("process", "thread"),
        default="process",
        help="a separate `atelier runner`, or the runner thread inside serve",
    )
    parser.add_argument(
        "--pg", help="a PostgreSQL server URL; a fresh database is made there and dropped after"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="atelier-load-"))
    if args.pg:
        with throwaway_database(args.pg) as url:
            return run(args, work, url)
    return run(args, work, f"sqlite:///{work}/atelier.db")


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    name = f"atelier_load_{os.getpid()}"
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield str(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def run(args: argparse.Namespace, work: Path, url: str) -> int:
    engine = make_engine(url)
    sessions = make_sessions(engine)
    in_serve = args.runner == "thread"
    with LocalProcesses(
        url, work / "store", PEOPLE, work / "logs", runner_in_serve=in_serve
    ) as stack:
        if not in_serve:
            stack.start_runner("load-runner")
        print(f"preparing a busy project (logs in {work / 'logs'})", flush=True)
        busy = prepare(stack)
        print(
            f"sending {args.rate:g}/s for {args.seconds:g} s, runner as a {args.runner}", flush=True
        )
        report = drive(stack, busy, sessions, seconds=args.seconds, rate=args.rate)
    engine.dispose()
    for line in report.lines():
        print(line)
    met = report.percentile(0.99) < 0.3 and not report.errors and not report.lost
    print("target (p99 < 300 ms, no errors, nothing lost):", "met" if met else "MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
