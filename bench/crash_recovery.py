"""Crash recovery: kill -9 `atelier serve` and the runner under load; nothing acked is lost.

Starts the stand-in Slack here, and `atelier serve --http` and one `atelier runner` as real
processes. Takes a project to its volume stage with batches queued so the runner stays busy,
then sends requests at a steady rate (open loop): `/atelier new` commands, thread replies,
clicks and emoji, in turn. Meanwhile it kill -9s serve at random moments and restarts it, and
does the same to the runner. Afterwards it reads the database and the stand-in: every request
that got a 200 must have taken effect exactly once, every project must have its thread, and
every job its images, none doubled.

    python bench/crash_recovery.py [--requests 300] [--rate 20] [--kills 3]
                                   [--database sqlite|postgresql|both] [--short]

Targets: 0 lost, 0 duplicated; ack p99 under 100 ms (run `--kills 0 --rate 50` for the rate).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ack_latency import throwaway_database
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.workbench.load import CHANNEL, DIRECTOR, OPERATOR, PEOPLE, Busy, Report, Sent, prepare
from bot.workbench.local import LocalProcesses
from storage.db import make_engine, make_sessions
from storage.models import AuditEntry, Image, InboxRequest, Job, Project
from storage.states import InboxStatus, JobStatus

KINDS = ("command", "reply", "click", "emoji")
PG = os.environ.get("ATELIER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
RUNNER_LEASE = "10"  # seconds: how soon a killed runner's job is taken over
RUNNER_WINDOW = 25.0  # seconds: the runner's kills fall in windows this long, one in each
RECOVERED_GAP = 5.0  # seconds: a process runs at least this long between recovery and next kill


@dataclass
class Recovery:
    what: str
    at: float  # seconds into the load
    seconds: float


@dataclass
class Outcome:
    database: str
    report: Report
    recoveries: list[Recovery] = field(default_factory=list)
    applied: int = 0
    marks_before: int = 0
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    # A refusal changes nothing, so nothing marks it done: one whose request was in hand when
    # serve was killed is said again when the inbox replays it. Reported, not a duplicate.
    said_again: list[str] = field(default_factory=list)

    @property
    def acked(self) -> list[Sent]:
        return [s for s in self.report.sent if s.status == 200]

    def lines(self) -> list[str]:
        sent, acked = self.report.sent, self.acked
        p50, p99 = _percentile(acked, 0.5), _percentile(acked, 0.99)
        out = [
            f"[{self.database}] requests sent {len(sent)}, acked {len(acked)} "
            f"(the rest met serve while it was down: no 200, so Slack retries or shows an error)",
            f"  applied {self.applied} of {len(acked)} acked; lost {len(self.lost)}; "
            f"duplicated {len(self.duplicates)}",
            f"  ack latency with the inbox write: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms",
        ]
        out += [
            f"  kill -9 {r.what} at {r.at:5.1f} s: recovered in {r.seconds:.1f} s"
            for r in self.recoveries
        ]
        out += [f"  lost: {m}" for m in self.lost[:10]]
        out += [f"  duplicated: {m}" for m in self.duplicates[:10]]
        out += [f"  said again after a kill (a refusal, no state): {m}" for m in self.said_again]
        return out

    @property
    def met(self) -> bool:
        return not self.lost and not self.duplicates and len(self.acked) > 0


def _percentile(items: list[Sent], share: float) -> float:
    latencies = sorted(s.latency for s in items)
    return latencies[min(len(latencies) - 1, int(share * len(latencies)))] if latencies else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--kills", type=int, default=3, help="kills of serve, and of the runner")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--short", action="store_true", help="60 requests, one kill each")
    parser.add_argument("--seed", type=int, default=None, help="for the kill moments")
    args = parser.parse_args()
    if args.short:
        args.requests, args.kills = 60, 1
    outcomes = []
    for database in ("sqlite", "postgresql") if args.database == "both" else (args.database,):
        work = Path(tempfile.mkdtemp(prefix=f"atelier-crash-{database}-"))
        if database == "postgresql":
            with throwaway_database(PG) as url:
                outcomes.append(run(args, work, url, database))
        else:
            outcomes.append(run(args, work, f"sqlite:///{work}/atelier.db", database))
    for outcome in outcomes:
        for line in outcome.lines():
            print(line)
    met = all(outcome.met for outcome in outcomes)
    print("target (0 lost, 0 duplicated):", "met" if met else "MISSED")
    return 0 if met else 1


def run(args: argparse.Namespace, work: Path, url: str, database: str) -> Outcome:
    """1. start the processes, 2. prepare, 3. load with kills, 4. wait, 5. count."""
    sessions = make_sessions(make_engine(url))
    with LocalProcesses(url, work / "store", PEOPLE, work / "logs") as stack:
        runners = Runners(stack)
        print(f"[{database}] preparing a busy project (logs in {work / 'logs'})", flush=True)
        busy = prepare(stack, volume_runs=3 * max(1, args.kills))  # work to outlast the kills
        hero = _hero(stack, busy)
        sent = [Sent(KINDS[n % len(KINDS)], n) for n in range(args.requests)]
        seconds = args.requests / args.rate
        print(f"[{database}] {args.requests} requests at {args.rate:g}/s, {args.kills} kills each")
        moments = _moments(random.Random(args.seed), args.kills, seconds)
        with sessions() as s:
            marks_before = _marks(s)
        killers = [
            Killer(stack, runners, sessions, [m for m in moments if m[1] == what])
            for what in ("serve", "runner")
        ]
        for killer in killers:
            killer.start()
        _send_all(sent, args.rate, lambda item: _send_one(stack, busy, hero, item))
        for killer in killers:
            killer.join()
        recoveries = sorted((r for k in killers for r in k.recoveries), key=lambda r: r.at)
        outcome = Outcome(database, Report(sent, seconds), recoveries)
        outcome.marks_before = marks_before
        _settle(stack, sessions, outcome)
    return outcome


def _moments(rng: random.Random, kills: int, seconds: float) -> list[tuple[float, str]]:
    """One kill of each process at a random moment in each of `kills` equal windows.

    Serve's windows split the load; the runner's are at least RUNNER_WINDOW long, so each new
    runner has time to take work over before the next kill. Killing it again the moment it has
    claimed a job, three times, fails that job by design: a job whose runner keeps dying is
    taken for one that kills it.
    """
    if kills == 0:
        return []
    serve = [(rng.uniform(i, i + 1) * seconds / kills, "serve") for i in range(kills)]
    window = max(seconds / kills, RUNNER_WINDOW)
    runner = [(rng.uniform(i + 0.2, i + 0.8) * window, "runner") for i in range(kills)]
    return sorted(serve + runner)


class Runners:
    """The runner process, killed and started again under a new name each time."""

    def __init__(self, stack: LocalProcesses) -> None:
        self.stack = stack
        self.count = 0
        self.name = ""
        self.process = self.start()

    def start(self) -> subprocess.Popen[bytes]:
        self.count += 1
        self.name = f"crash-runner-{self.count}"
        self.process = self.stack.start_runner(
            self.name, "--lease-seconds", RUNNER_LEASE, "--poll-seconds", "0.2"
        )
        return self.process


class Killer(threading.Thread):
    """At each of its moments, kill -9 serve or the runner, start it again, time the recovery.

    One killer per process, so a slow recovery of one does not bunch the other's kills; a
    moment that comes before the last recovery ended waits for it, plus RECOVERED_GAP.
    """

    def __init__(
        self,
        stack: LocalProcesses,
        runners: Runners,
        sessions: sessionmaker[Session],
        moments: list[tuple[float, str]],
    ) -> None:
        super().__init__(name="killer", daemon=True)
        self.stack, self.runners, self.sessions, self.moments = stack, runners, sessions, moments
        self.recoveries: list[Recovery] = []

    def run(self) -> None:
        began = recovered = time.monotonic()
        for at, what in self.moments:
            time.sleep(
                max(
                    0.0, began + at - time.monotonic(), recovered + RECOVERED_GAP - time.monotonic()
                )
            )
            killed = time.monotonic()
            seconds = self._serve() if what == "serve" else self._runner()
            recovered = time.monotonic()
            self.recoveries.append(Recovery(what, killed - began, seconds))

    def _serve(self) -> float:
        """Until serve answers again and every request acked before the kill is applied."""
        killed = time.monotonic()
        with self.sessions() as s:
            before = s.scalar(select(func.max(InboxRequest.id))) or 0
        self.stack.restart_serve(signal.SIGKILL)

        def caught_up() -> bool:
            with self.sessions() as s:
                left = s.scalar(
                    select(func.count())
                    .select_from(InboxRequest)
                    .where(InboxRequest.id <= before, InboxRequest.status != InboxStatus.APPLIED)
                )
            return left == 0

        self.stack.wait(caught_up, 120, "the requests acked before the kill")
        return time.monotonic() - killed

    def _runner(self) -> float:
        """Until no job is held by the dead runner: its successor has taken the batch over."""
        killed = time.monotonic()
        dead = self.runners.name
        self.runners.process.kill()
        self.runners.process.wait(30)
        self.runners.start()

        def taken_over() -> bool:
            with self.sessions() as s:
                held = s.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.lease_owner == dead, Job.status == JobStatus.RUNNING)
                )
            return held == 0

        self.stack.wait(taken_over, 120, "the dead runner's jobs to be taken over")
        return time.monotonic() - killed


def _hero(stack: LocalProcesses, busy: Busy) -> str:
    """The hero message: the Operator's ✅ on it is refused (only the Director approves)."""
    for message in stack.standin.thread(CHANNEL, busy.thread):
        if message.get("bot_id") and "Hero #" in (message.get("text") or ""):
            return str(message["ts"])
    raise RuntimeError("the project has no hero message")


def _send_one(stack: LocalProcesses, busy: Busy, hero: str, item: Sent) -> int:
    slack, n = stack.standin, item.number
    if item.kind == "command":
        return slack.command(DIRECTOR, CHANNEL, f"new Campaign {n}: posters for the launch.").status
    if item.kind == "reply":
        text = f"intent Spring launch take {n}: warm and hopeful posters."
        return slack.say(DIRECTOR, CHANNEL, text, thread_ts=busy.thread)[1].status
    if item.kind == "click":
        return slack.press(OPERATOR, CHANNEL, busy.batch, "batch_save").status
    return slack.react(OPERATOR, CHANNEL, hero, "white_check_mark").status


def _send_all(sent: list[Sent], rate: float, send_one: Callable[[Sent], int]) -> None:
    """Open loop: request i goes at start + i/rate, whatever the answers before it do."""

    def send(item: Sent, at: float) -> None:
        time.sleep(max(0.0, at - time.monotonic()))
        began = time.monotonic()
        try:
            item.status = send_one(item)
        except Exception as error:  # serve is down: no answer is a result, not a crash
            item.error = f"{type(error).__name__}: {error}"
        item.latency = time.monotonic() - began

    start = time.monotonic() + 0.2
    with ThreadPoolExecutor(max_workers=32) as pool:
        for index, item in enumerate(sent):
            pool.submit(send, item, start + index / rate)


def _settle(stack: LocalProcesses, sessions: sessionmaker[Session], outcome: Outcome) -> None:
    """Wait for everything acked to land, then count effects against what was acked."""

    def idle() -> bool:
        with sessions() as s:
            waiting = s.scalar(
                select(func.count())
                .select_from(InboxRequest)
                .where(InboxRequest.status != InboxStatus.APPLIED)
            )
            working = s.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
            )
        return waiting == 0 and working == 0 and _roots(stack) >= _projects(sessions)

    stack.wait(idle, 600, "every request, job and thread to land")
    time.sleep(2)  # a duplicate would show up now, if it were coming
    _count(stack, sessions, outcome)


def _marks(s: Session) -> int:
    stmt = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "mark")
    return int(s.scalar(stmt) or 0)


def _projects(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Project)) or 0)


def _roots(stack: LocalProcesses) -> int:
    return len([m for m in stack.standin.history(CHANNEL) if m.get("bot_id")])


def _count(stack: LocalProcesses, sessions: sessionmaker[Session], outcome: Outcome) -> None:
    acked = outcome.acked
    with sessions() as s:
        intents = list(s.scalars(select(Project.intent)))
        restated = [
            str(d.get("intent", ""))
            for d in s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "set_intent"))
        ]
        marks = _marks(s)
        doubled_images = s.execute(
            select(Image.job_id, Image.job_index, func.count())
            .where(Image.job_id.is_not(None))
            .group_by(Image.job_id, Image.job_index)
            .having(func.count() > 1)
        ).all()
        failed_jobs = list(s.scalars(select(Job.id).where(Job.status == JobStatus.FAILED)))
        unthreaded = list(s.scalars(select(Project.id).where(Project.thread_ts.is_(None))))
    roots = [m.get("text") or "" for m in stack.standin.history(CHANNEL) if m.get("bot_id")]
    refusals = [
        e for e in stack.standin.ephemerals_for(OPERATOR) if "Only the Director" in e["text"]
    ]
    missing = 0
    for item in (i for i in acked if i.kind in ("command", "reply")):
        missing += _compare(item.marker, 1, _found(item, intents, restated), outcome)
        if item.kind == "command" and sum(f"Campaign {item.number}:" in r for r in roots) > 1:
            outcome.duplicates.append(f"{item.marker}: its thread opened twice")
    clicks = sum(item.kind == "click" for item in acked)
    emoji = sum(item.kind == "emoji" for item in acked)
    missing += _compare("clicks (keep/cull saved)", clicks, marks - outcome.marks_before, outcome)
    if len(refusals) > emoji:
        outcome.said_again.append(f"emoji refusals: {len(refusals)} for {emoji}")
    missing += _compare("emoji (refusals said)", emoji, min(len(refusals), emoji), outcome)
    outcome.applied = len(acked) - missing
    outcome.duplicates += [f"image of job {j} #{i} ×{n}" for j, i, n in doubled_images]
    outcome.lost += [f"job {j} failed" for j in failed_jobs]
    outcome.lost += [f"project {p} has no thread" for p in unthreaded]


def _found(item: Sent, intents: list[str], restated: list[str]) -> int:
    """How many times a command's or a reply's effect is there."""
    if item.kind == "command":
        return sum(f"Campaign {item.number}:" in i for i in intents)
    return sum(f"take {item.number}:" in r for r in restated)


def _compare(what: str, acked: int, found: int, outcome: Outcome) -> int:
    """Record a shortfall as lost and a surplus as duplicated; returns the shortfall."""
    if found < acked:
        outcome.lost.append(f"{what}: {found} of {acked}")
    elif found > acked:
        outcome.duplicates.append(f"{what}: {found} for {acked}")
    return max(0, acked - found)


if __name__ == "__main__":
    sys.exit(main())
