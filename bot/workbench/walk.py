"""The usual way through a project's plays, typed and clicked as people would in the stand-in."""

from __future__ import annotations

from dataclasses import dataclass

from bot.workbench.local import SlackWatch


@dataclass(frozen=True)
class Team:
    """A channel and the three people who wear its hats."""

    channel: str
    director: str
    operator: str
    reviewer: str


def start(watch: SlackWatch, team: Team, intent: str) -> str:
    """Set the channel's roles and start a project; returns its thread."""
    slack = watch.standin
    slack.command(
        team.director,
        team.channel,
        f"roles director <@{team.director}> operator <@{team.operator}> reviewer <@{team.reviewer}>",
    )
    watch.ephemeral(team.director, "roles saved")
    slack.command(team.director, team.channel, f"new {intent}")
    return str(watch.root(team.channel)["ts"])


def sprint(watch: SlackWatch, team: Team, thread: str) -> str:
    """Run a concept sprint; returns the moodboard's ts."""
    watch.standin.say(
        team.operator,
        team.channel,
        "sprint ink | clay | neon — a courier at dawn",
        thread_ts=thread,
    )
    return str(watch.message(team.channel, thread, "Moodboard")["ts"])


def hero(watch: SlackWatch, team: Team, thread: str, board: str) -> str:
    """Approve the moodboard's direction, lock #1 and approve its hero; returns the hero's ts."""
    slack = watch.standin
    slack.react(team.director, team.channel, board, "white_check_mark")
    watch.message(team.channel, thread, "approved the direction")
    slack.say(team.operator, team.channel, "lock 1", thread_ts=thread)
    ts = str(watch.message(team.channel, thread, "Hero #")["ts"])
    slack.react(team.director, team.channel, ts, "white_check_mark")
    watch.message(team.channel, thread, "approved the hero")
    return ts


def volume(watch: SlackWatch, team: Team, thread: str) -> tuple[str, list[int]]:
    """A batch of four; returns its ts and image numbers."""
    slack = watch.standin
    slack.say(team.operator, team.channel, "volume red bike x4", thread_ts=thread)
    ts = str(watch.message(team.channel, thread, "Volume batch")["ts"])
    options = slack.element(team.channel, ts, "keep_0")[1]["options"]
    return ts, [int(option["value"]) for option in options]


def to_volume(watch: SlackWatch, team: Team, intent: str) -> tuple[str, str, list[int]]:
    """A new project ranked, locked and through a first batch; returns thread, batch ts, numbers."""
    thread = start(watch, team, intent)
    board = sprint(watch, team, thread)
    watch.standin.say(team.director, team.channel, "rank 1 2 3", thread_ts=thread)
    watch.message(team.channel, thread, "ranked #1")
    hero(watch, team, thread, board)
    batch, numbers = volume(watch, team, thread)
    return thread, batch, numbers


REVIEWER_BOXES = [
    "clear_of_people_logos_artists",
    "license_permits_use",
    "no_offensive_content",
    "alt_text_written",
]


def clear(watch: SlackWatch, team: Team, thread: str, number: int, alt_text: str) -> None:
    """Send a kept image to the gate and clear it as the Reviewer: every box, the alt text."""
    slack = watch.standin
    slack.say(team.operator, team.channel, f"review {number}", thread_ts=thread)
    gate = str(watch.message(team.channel, thread, f"Review gate: #{number}")["ts"])
    slack.set_state(team.channel, gate, "gate_boxes", REVIEWER_BOXES, dispatch_user=team.reviewer)
    slack.set_state(team.channel, gate, "gate_alt", alt_text)
    slack.press(team.reviewer, team.channel, gate, "gate_clear")
    watch.message(team.channel, thread, f"cleared #{number}")
