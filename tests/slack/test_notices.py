"""Notices are typed events (#26): each kind has one record and one renderer, and stored
payloads, old ones included, come back as the record they were."""

from __future__ import annotations

import pytest

from bot.playbook import notices as N
from bot.slack.notices import NOTICES, notice_text


def test_every_notice_has_a_renderer_and_a_unique_name() -> None:
    assert set(NOTICES) == set(N.EVENTS.values())
    assert len(N.EVENTS) == len(N.Notice.__subclasses__())


def test_a_payload_round_trips_and_an_old_one_still_renders() -> None:
    ranked = N.Ranked(numbers=[3, 1, 2], user="UDIR")
    assert N.from_payload(ranked.payload()) == ranked
    assert notice_text(ranked.payload()).startswith(":trophy: <@UDIR> ranked #3, #1, #2.")
    # Written before notices said who acted, or with a key since dropped: still words.
    assert notice_text({"event": "budget", "number": 4, "budget": 12, "by": "x"}) == (
        "#4's iteration budget is now 12."
    )
    assert notice_text({"text": "plain words"}) == "plain words"


def test_a_notice_missing_a_field_is_refused_where_it_is_made() -> None:
    with pytest.raises(TypeError):
        N.from_payload({"event": "ranked", "user": "UDIR"})
