"""Blocked words over Slack: the Director sets them, a sprint holding one is refused with it."""

from __future__ import annotations

from bot.workbench import walk
from bot.workbench.local import LocalSlack
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, TEAM


def test_a_channels_blocked_words_refuse_a_prompt_that_holds_one(local: LocalSlack) -> None:
    slack = local.standin
    thread = walk.start(local, TEAM, "Hero art for the spring courier campaign.")
    slack.command(OPERATOR, CHANNEL, "settings blocklist add logo")
    local.ephemeral(OPERATOR, "channel's Director")
    slack.command(DIRECTOR, CHANNEL, 'settings blocklist add "Brand X"')
    local.ephemeral(DIRECTOR, "Blocked words in this channel: “Brand X”")
    slack.say(OPERATOR, CHANNEL, "sprint ink | clay | neon — a BRAND X courier", thread_ts=thread)
    refused = local.ephemeral(OPERATOR, "blocked words")["text"]
    assert "“Brand X” is on this channel's blocked words, so nothing was made" in refused
    assert "settings blocklist remove Brand X" in refused
    slack.command(DIRECTOR, CHANNEL, "settings blocklist remove brand x")
    local.ephemeral(DIRECTOR, "This channel blocks no words")
    slack.say(OPERATOR, CHANNEL, "sprint ink | clay | neon — a BRAND X courier", thread_ts=thread)
    local.message(CHANNEL, thread, "Moodboard")
