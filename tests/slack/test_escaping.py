"""User text can't speak for the bot: every message that echoes it shows it literally."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.blocks import escape
from bot.workbench.local import LocalSlack
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, REVIEWER

INTENT = "<!channel> urgent: <https://evil.example|Re-authenticate Atelier> <@UCEO> approved."
STYLE = "<!here> ink & wash"
SUBJECT = "a courier <@UCEO>"
VALUE = "<https://evil.example|red bike>"
REASON = "<!subteam^S1> nothing to fix"
NOTE = "<@UCEO> says the licence is wrong"


def _mrkdwn(message: dict[str, Any]) -> list[str]:
    """Every string Slack would render as mrkdwn in a message: its text and mrkdwn objects."""
    found = [message.get("text") or ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node.get("text", ""))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks") or [])
    return found


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_message_that_echoes_user_text_escapes_it(local: LocalSlack) -> None:
    slack = local.standin
    slack.command(
        DIRECTOR,
        CHANNEL,
        f"roles director <@{DIRECTOR}> operator <@{OPERATOR}> reviewer <@{REVIEWER}>",
    )
    local.ephemeral(DIRECTOR, "roles saved")
    slack.command(DIRECTOR, CHANNEL, f"new {INTENT}")
    thread = str(local.root(CHANNEL)["ts"])
    slack.say(OPERATOR, CHANNEL, f"sprint {STYLE} | clay | neon — {SUBJECT}", thread_ts=thread)
    board = str(local.message(CHANNEL, thread, "Moodboard")["ts"])
    slack.say(DIRECTOR, CHANNEL, "rank 1 2 3", thread_ts=thread)
    local.message(CHANNEL, thread, "ranked #1")
    slack.react(DIRECTOR, CHANNEL, board, "white_check_mark")
    local.message(CHANNEL, thread, "approved the direction")
    slack.say(OPERATOR, CHANNEL, "lock 1", thread_ts=thread)
    hero = str(local.message(CHANNEL, thread, "Hero #")["ts"])
    slack.react(DIRECTOR, CHANNEL, hero, "white_check_mark")
    local.message(CHANNEL, thread, "approved the hero")
    slack.say(OPERATOR, CHANNEL, f"volume {VALUE} x2", thread_ts=thread)
    local.message(CHANNEL, thread, "Volume batch")
    slack.say(OPERATOR, CHANNEL, "keep 18", thread_ts=thread)
    slack.say(DIRECTOR, CHANNEL, f"skip fix {REASON}", thread_ts=thread)
    local.message(CHANNEL, thread, "skipped the Fix-and-finish")
    slack.say(OPERATOR, CHANNEL, "review 18", thread_ts=thread)
    local.message(CHANNEL, thread, "Review gate: #18")
    slack.say(REVIEWER, CHANNEL, f"sendback 18 license {NOTE}", thread_ts=thread)
    local.message(CHANNEL, thread, "sent #18 back")
    local.settle()

    posted = [m for m in slack.history(CHANNEL) + slack.thread(CHANNEL, thread) if m.get("bot_id")]
    shown = "\n".join(text for message in posted for text in _mrkdwn(message))
    for hostile in (INTENT, STYLE, SUBJECT, VALUE, REASON, NOTE):
        assert hostile not in shown
    for raw in ("<!channel>", "<!here>", "<!subteam", "<https://evil", "<@UCEO>"):
        assert raw not in shown, raw
    # Each piece is still shown, literally: the root, the moodboard, the card, the notices.
    for echoed in (
        INTENT,
        "&lt;!here&gt; ink &amp; wash",
        escape(VALUE),
        escape(REASON),
        escape(NOTE),
    ):
        assert echoed in shown or escape(echoed) in shown, echoed
