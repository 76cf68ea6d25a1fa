"""App Home: one person's place across channels, published when they open it and kept fresh.

A Home is published when the person opens the tab, and again after anything that may change
what waits on them: a new notice in one of their projects (a decision, a job's result). Those
refreshes are debounced per person and held under Slack's views.publish rate (Tier 4, about
100 a minute), so a busy channel never trips it. Only people who opened Home since this
process started are refreshed; anyone else gets a fresh one when they open it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.playbook.service import Home, PlaybookService
from bot.slack.blocks import Block, button, context, escape, next_step_text, progress_text, section
from bot.slack.index import MessageIndex

log = logging.getLogger("atelier.slack")

# Each list shows this many, then "and N more"; with the headings it stays far under Block
# Kit's 100 blocks however many projects a person has.
TURN, PROJECTS, QUEUE = 15, 20, 10
DEBOUNCE_SECONDS = 2.0
PER_MINUTE = 90  # views.publish is Tier 4 (100+ a minute); leave room for opens
GONE = {"channel_not_found", "not_in_channel", "is_archived"}  # Atelier can't reach it now
LINK_SECONDS = 600.0  # a thread's link is asked again after this: a removal shows within it
NO_ROLE = (
    "Nothing waits on you: you hold no role on a project yet. A channel's Director gives "
    "people their hats (`/atelier roles director @… operator @… reviewer @…`), or start a "
    "project yourself: `/atelier new <the intent in one sentence>`."
)


def home_view(home: Home, links: dict[int, str]) -> dict[str, Any]:
    """The Home tab: *Your turn*, *Your projects*, *Queue* and *This week*."""
    blocks: list[Block] = [_header("Your turn")]
    turn = home.turn
    blocks += [
        section(
            f"{_name(each, links)} <#{each.project.channel_id}> — #{each.number} was handed to "
            "you to edit: upload your version in its thread."
        )
        for each in home.handoffs[:TURN]
    ]
    if turn:
        blocks += [_turn_item(item, links) for item in turn[:TURN]]
        blocks += _more(len(turn) - TURN, turn[TURN:], links)
    elif not home.handoffs:
        blocks.append(section(NO_ROLE if not home.projects else "Nothing waits on you right now."))
    blocks += [{"type": "divider"}, _header("Your projects")]
    shown = home.projects[:PROJECTS]
    blocks += [section(_project_line(item, links)) for item in shown]
    blocks += _more(len(home.projects) - PROJECTS, home.projects[PROJECTS:], links)
    if not home.projects:
        blocks.append(context("No projects yet."))
    blocks += [{"type": "divider"}, _header("Queue")]
    lines = [f"<#{job.channel_id}> {progress_text(job, ahead)}" for job, ahead in home.queue]
    blocks.append(section("\n".join(lines[:QUEUE]) or "None of your jobs is waiting or running."))
    if len(lines) > QUEUE:
        blocks.append(context(f"…and {len(lines) - QUEUE} more: `/atelier queue` lists them all."))
    blocks += [{"type": "divider"}, _header("This week")]
    week = [
        f"<#{row.channel_id}>: {row.cleared} final{'s' if row.cleared != 1 else ''} cleared, "
        f"{row.gpu_minutes:.1f} GPU minutes"
        for row in home.week
    ]
    blocks.append(section("\n".join(week) or "No channel of yours has work this week."))
    return {"type": "home", "blocks": blocks}


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _name(item: Any, links: dict[int, str]) -> str:
    project = item.project
    label = f"Project {project.id}"
    link = links.get(project.id)
    return f"*<{link}|{label}>*" if link else f"*{label}*"


def _turn_item(item: Any, links: dict[int, str]) -> Block:
    project = item.project
    block = section(
        f"{_name(item, links)} <#{project.channel_id}> — {escape(project.intent)}\n"
        f"You: {escape(item.step.text)}"
    )
    if item.step.click:
        block["accessory"] = button(
            "Approve", f"home_{item.step.click}", str(project.id), style="primary"
        )
    return block


def _project_line(item: Any, links: dict[int, str]) -> str:
    project = item.project
    return (
        f"{_name(item, links)} <#{project.channel_id}> — {escape(project.intent)}\n"
        f"{item.play} · {next_step_text(project, item.step)}"
    )


def _more(hidden: int, rest: Sequence[Any], links: dict[int, str]) -> list[Block]:
    if hidden <= 0:
        return []
    first = rest[0]
    return [context(f"…and {hidden} more, from {_name(first, links)} on.")]


class HomeTab:
    """Publishes Homes: on open at once, after changes debounced and under the rate limit."""

    def __init__(self, service: PlaybookService, index: MessageIndex, client: WebClient) -> None:
        self.service, self.index, self.client = service, index, client
        self._lock = threading.Lock()
        self._opened: set[str] = set()
        self._due: dict[str, float] = {}  # person → when their refresh may go
        self._sent: list[float] = []  # publish times in the last minute
        self._links: dict[tuple[str, str], tuple[str, float]] = {}  # thread → (link, when)
        self._seen: int | None = None

    def opened(self, user: str) -> None:
        if self._seen is None:  # the first open: later changes are counted from here
            self._seen = self.service.home_changes(-1)[0]
        with self._lock:
            self._opened.add(user)
        self.publish(user)

    def refresh(self) -> int:
        """One pass: note who may see something new, publish those due; how many went."""
        with self._lock:
            if not self._opened:
                return 0  # nobody to refresh: no need to read the outbox (on the first open, it is)
        newest, people = self.service.home_changes(self._seen if self._seen is not None else -1)
        now = time.monotonic()
        with self._lock:
            if self._seen is not None:
                for user in people & self._opened:
                    self._due.setdefault(user, now + DEBOUNCE_SECONDS)
            self._seen = newest
            self._sent = [at for at in self._sent if at > now - 60]
            room = max(0, PER_MINUTE - len(self._sent))
            ready = sorted(user for user, at in self._due.items() if at <= now)[:room]
            for user in ready:
                del self._due[user]
        for user in ready:
            self.publish(user)
        return len(ready)

    def publish(self, user: str) -> None:
        home = self.service.home(user)
        links, gone = self._links_for(home)
        try:
            self.client.views_publish(user_id=user, view=home_view(home.without(gone), links))
        except SlackApiError as error:
            log.warning(
                "home not published", extra={"user": user, "error": error.response.get("error")}
            )
        with self._lock:
            self._sent.append(time.monotonic())

    def _links_for(self, home: Home) -> tuple[dict[int, str], set[str]]:
        """Each project's thread link; channels Atelier can no longer reach are left out."""
        links: dict[int, str] = {}
        gone: set[str] = set()
        for project in [item.project for item in home.projects] + [
            each.project for each in home.handoffs
        ]:
            if project.channel_id in gone or not project.thread_ts:
                continue
            key = (project.channel_id, project.thread_ts)
            cached = self._links.get(key)
            if cached is None or cached[1] < time.monotonic() - LINK_SECONDS:
                try:
                    answer = self.client.chat_getPermalink(
                        channel=project.channel_id, message_ts=project.thread_ts
                    )
                except SlackApiError as error:
                    if error.response.get("error") in GONE:
                        gone.add(project.channel_id)
                    continue
                cached = self._links[key] = (str(answer["permalink"]), time.monotonic())
            links[project.id] = cached[0]
        return links, gone
