"""Ack latency under load: signed commands, thread replies and clicks into `atelier serve --http`.

Starts the stand-in Slack here and `atelier serve --http` plus `--runners` `atelier runner`s as
real processes, takes a project to its volume stage with 2,000 images a runner queued so the runners
stay busy, starts a project in each of `--channels` − 1 more channels, then sends `--rate` requests a
second for `--seconds` (open loop: on schedule whatever the answers do), commands and replies
going round the channels. Prints p50/p99 ack latency and errors, then reads the database to
check that every request had its effect. Target: p99 under 100 ms, nothing lost.

The runners render on this machine's CPU, beside serve; on a deployment they are GPU hosts of
their own, so `--runner-nice` (default 10) lets serve's acks come before their renders.

    python bench/ack_latency.py [--seconds 60] [--rate 20] [--channels 1] [--runners 1]
                                [--runner process|thread] [--pg URL]
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
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--runners", type=int, default=1, help="runner processes")
    parser.add_argument("--runner-nice", type=int, default=10)
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
        for n in range(0 if in_serve else args.runners):
            runner = stack.start_runner(f"load-runner-{n}")
            os.setpriority(os.PRIO_PROCESS, runner.pid, args.runner_nice)
        print(f"preparing a busy project (logs in {work / 'logs'})", flush=True)
        busy = prepare(stack, volume_runs=10 * max(1, args.runners), channels=args.channels)
        print(
            f"sending {args.rate:g}/s for {args.seconds:g} s over {args.channels} channels, "
            f"runners: {'a thread in serve' if in_serve else args.runners}",
            flush=True,
        )
        report = drive(stack, busy, sessions, seconds=args.seconds, rate=args.rate)
    engine.dispose()
    for line in report.lines():
        print(line)
    met = report.percentile(0.99) < 0.1 and not report.errors and not report.lost
    print("target (p99 < 100 ms, no errors, nothing lost):", "met" if met else "MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
