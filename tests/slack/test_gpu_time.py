"""GPU time over Slack: the metrics show it, a channel caps it, and work past the cap is refused."""

from __future__ import annotations

from sqlalchemy import update

from bot.workbench import walk
from bot.workbench.local import LocalSlack
from storage.models import Job
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, STRANGER, TEAM, card


def test_a_channel_sees_its_gpu_minutes_and_caps_them(local: LocalSlack) -> None:
    slack = local.standin
    thread, _, numbers = walk.to_volume(local, TEAM, "Hero art for the spring campaign.")
    slack.say(STRANGER, CHANNEL, "metrics channel", thread_ts=thread)
    shown = card(local, STRANGER, "This channel metrics")
    assert "*GPU time:*" in shown and f"<@{OPERATOR}>" in shown
    slack.command(DIRECTOR, CHANNEL, "settings gpu-minutes 1")
    local.ephemeral(DIRECTOR, "GPU time capped at 1 minutes a week")
    with local.server.dispatcher.sessions.begin() as s:  # as if the runners had been slow
        s.execute(update(Job).values(gpu_seconds=30.0))
    slack.say(OPERATOR, CHANNEL, f"reroll {numbers[0]} x2", thread_ts=thread)
    refused = local.ephemeral(OPERATOR, "GPU minutes this week")["text"]
    assert "of its 1 GPU minutes this week" in refused
    assert "The channel's Director or a workspace admin can raise the cap" in refused
    slack.command(OPERATOR, CHANNEL, "settings gpu-minutes 100")
    local.ephemeral(OPERATOR, "channel's Director")
    slack.command(DIRECTOR, CHANNEL, "settings gpu-minutes off")
    local.ephemeral(DIRECTOR, "no cap on GPU time")
    slack.say(OPERATOR, CHANNEL, f"reroll {numbers[0]} x2", thread_ts=thread)
    local.message(CHANNEL, thread, f"Re-rolling #{numbers[0]} with 2 new seed(s)")
