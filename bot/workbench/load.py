"""Signed load on a running `atelier serve --http`: a steady mix of commands, replies and clicks.

Requests go out on a fixed schedule (open loop, so a slow answer does not slow the offered
rate), each carries a marker, and afterwards the database is read to find every marker's effect.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.workbench import walk
from bot.workbench.local import SlackWatch
from bot.workbench.walk import Team
from storage.models import AuditEntry, Job, Project

CHANNEL = "CLOAD"
DIRECTOR, OPERATOR, REVIEWER = "ULOADDIR", "ULOADOPS", "ULOADREV"
PEOPLE = {DIRECTOR: "dana", OPERATOR: "omar", REVIEWER: "ria"}
TEAM = Team(CHANNEL, DIRECTOR, OPERATOR, REVIEWER)
KINDS = ("command", "reply", "click")


@dataclass
class Busy:
    """The projects the load acts on: the first at its volume stage, its batches keeping the
    runners busy; the others just started, one a channel, so the load spreads over channels."""

    thread: str
    batch: str
    others: list[tuple[str, str]] = field(default_factory=list)  # (channel, thread)

    def place(self, n: int) -> tuple[str, str]:
        """The channel and thread the n-th request goes to, round the channels."""
        places = [(CHANNEL, self.thread), *self.others]
        return places[n % len(places)]


@dataclass
class Sent:
    kind: str
    number: int
    latency: float = 0.0
    status: int = 0
    error: str = ""

    @property
    def marker(self) -> str:
        return f"{self.kind}-{self.number}"


@dataclass
class Report:
    sent: list[Sent]
    seconds: float
    lost: list[str] = field(default_factory=list)
    busy: float = 0.0

    @property
    def errors(self) -> list[Sent]:
        return [s for s in self.sent if s.status != 200]

    def percentile(self, share: float, kind: str | None = None) -> float:
        latencies = sorted(s.latency for s in self.sent if kind in (None, s.kind))
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))]

    def lines(self) -> list[str]:
        rate = len(self.sent) / self.seconds if self.seconds else 0.0
        out = [
            f"requests {len(self.sent)} in {self.seconds:.0f} s ({rate:.1f}/s); "
            f"runner busy {self.busy:.0%} of the time",
            f"ack latency p50 {self.percentile(0.5) * 1000:.0f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.0f} ms, "
            f"max {max((s.latency for s in self.sent), default=0) * 1000:.0f} ms",
        ]
        for kind in KINDS:
            count = sum(s.kind == kind for s in self.sent)
            out.append(
                f"  {kind:8} {count:5}  p50 {self.percentile(0.5, kind) * 1000:4.0f} ms  "
                f"p99 {self.percentile(0.99, kind) * 1000:4.0f} ms"
            )
        out.append(f"errors {len(self.errors)}; lost {len(self.lost)}")
        out += [f"  error: {s.kind} {s.marker}: {s.status} {s.error}" for s in self.errors[:10]]
        out += [f"  lost: {marker}" for marker in self.lost[:10]]
        return out


def prepare(stack: SlackWatch, volume_runs: int = 10, channels: int = 1) -> Busy:
    """Start a project in each of `channels - 1` channels; then take one to its volume stage
    and queue `volume_runs` runs of 200 images, last, so the runners are busy when load starts."""
    others = []
    for n in range(1, channels):
        team = Team(f"{CHANNEL}{n:03d}", DIRECTOR, OPERATOR, REVIEWER)
        others.append((team.channel, walk.start(stack, team, f"Campaign in channel {n}.")))
    slack = stack.standin
    thread, batch, numbers = walk.to_volume(
        stack, TEAM, "Posters for the spring launch, warm and hopeful."
    )
    slack.command(DIRECTOR, CHANNEL, "settings queue-limit 10000")
    stack.ephemeral(DIRECTOR, "queue limit 10000")
    slack.set_state(CHANNEL, batch, "keep_0", [str(numbers[0])])
    values = "; ".join(f"bike {n}" for n in range(20))
    for _ in range(volume_runs):
        slack.say(OPERATOR, CHANNEL, f"volume {values} x10", thread_ts=thread)
    return Busy(thread, batch, others)


def _send_one(stack: SlackWatch, busy: Busy, kind: str, n: int) -> int:
    """Deliver one signed request; returns the HTTP status the app answered."""
    slack = stack.standin
    channel, thread = busy.place(n)
    if kind == "command":
        return slack.command(
            DIRECTOR, channel, f"new Campaign {n}: posters for the spring launch."
        ).status
    if kind == "reply":
        return slack.say(
            DIRECTOR,
            channel,
            f"intent Spring launch take {n}: warm and hopeful posters.",
            thread_ts=thread,
        )[1].status
    return slack.press(OPERATOR, CHANNEL, busy.batch, "batch_save").status


def drive(
    stack: SlackWatch,
    busy: Busy,
    sessions: sessionmaker[Session],
    *,
    seconds: float,
    rate: float,
    workers: int = 32,
) -> Report:
    """Send `rate` requests a second for `seconds`, commands, replies and clicks in turn."""
    total = int(seconds * rate)
    sent = [Sent(KINDS[n % 3], n) for n in range(total)]
    marks_before = _marks(sessions)
    samples: list[bool] = []
    done = threading.Event()

    def watch_runner() -> None:
        while not done.wait(0.5):
            with sessions() as s:
                running = s.scalar(
                    select(func.count()).select_from(Job).where(Job.status == "running")
                )
            samples.append(bool(running))

    def send(index: int, at: float) -> None:
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        item = sent[index]
        began = time.monotonic()
        try:
            item.status = _send_one(stack, busy, item.kind, item.number)
        except Exception as error:  # a failed request is a result to report, not a crash
            item.error = f"{type(error).__name__}: {error}"
        item.latency = time.monotonic() - began

    watcher = threading.Thread(target=watch_runner, daemon=True)
    watcher.start()
    start = time.monotonic() + 0.5
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for index in range(total):
            pool.submit(send, index, start + index / rate)
    done.set()
    watcher.join()
    report = Report(sent, seconds, busy=sum(samples) / len(samples) if samples else 0.0)
    report.lost = _lost(stack, sessions, sent, marks_before)
    return report


def _marks(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(
            s.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "mark")
            )
            or 0
        )


def _lost(
    stack: SlackWatch,
    sessions: sessionmaker[Session],
    sent: list[Sent],
    marks_before: int,
    timeout: float = 120.0,
) -> list[str]:
    """Markers whose effect is not in the database once everything has had time to land."""

    def missing() -> list[str]:
        with sessions() as s:
            intents = list(s.scalars(select(Project.intent)))
            restated = [
                str(detail.get("intent", ""))
                for detail in s.scalars(
                    select(AuditEntry.detail).where(AuditEntry.action == "set_intent")
                )
            ]
        gone = []
        for item in sent:
            if item.kind == "command" and not any(f"Campaign {item.number}:" in i for i in intents):
                gone.append(item.marker)
            if item.kind == "reply" and not any(f"take {item.number}:" in i for i in restated):
                gone.append(item.marker)
        clicks = sum(item.kind == "click" for item in sent)
        marks = _marks(sessions) - marks_before
        gone += [f"click (saved {marks} of {clicks})"] if marks < clicks else []
        return gone

    try:
        stack.wait(lambda: not missing(), timeout, "every request's effect")
    except TimeoutError:
        return missing()
    return []
