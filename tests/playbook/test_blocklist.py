"""A channel's blocked words: whole words, any case or Unicode form, in every prompt text a
person writes; refused with the phrase, audited, nothing made."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import errors
from bot.playbook.blocklist import found
from bot.playbook.service import PlaybookService
from storage.models import AuditEntry, Job
from tests.playbook.conftest import CHANNEL, DIRECTOR, OPERATOR, Flow


def test_phrases_match_whole_words_in_any_case_or_unicode_form() -> None:
    assert found(["A LOGO on a wall"], ["logo"]) == "logo"
    assert found(["logos and logotypes"], ["logo"]) is None
    assert found(["ＢＲＡＮＤ　Ｘ poster"], ["brand x"]) == "brand x"  # fullwidth letters, space
    assert found(["brand   x"], ["Brand X"]) == "Brand X"
    assert found(["cafe\u0301 at dawn"], ["café"]) == "café"  # decomposed é
    assert found(["a category of cats"], ["cat"]) is None
    assert found(["the cat."], ["cat"]) == "cat"


def test_every_prompt_text_is_checked_and_a_refusal_is_audited(
    flow: Flow, sessions: sessionmaker[Session]
) -> None:
    flow.start()
    flow.service.change_blocklist(CHANNEL, DIRECTOR, add="Brand X")
    with pytest.raises(errors.Blocked, match="“Brand X” is on this channel's blocked words"):
        flow.service.run_sprint(
            flow.project_id, OPERATOR, "a brand x courier", ["ink", "clay", "neon"], 15
        )
    with pytest.raises(errors.Blocked):
        flow.service.run_sprint(
            flow.project_id, OPERATOR, "a courier", ["ink", "BRAND X", "neon"], 15
        )
    with pytest.raises(errors.Blocked):
        flow.service.set_intent(flow.project_id, DIRECTOR, "Posters for Brand X in spring.")
    with pytest.raises(errors.Blocked):
        flow.service.start_project(CHANNEL, DIRECTOR, "Banners for brand x, bright.")
    with sessions() as s:
        refused = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "blocked_words")))
        assert not list(s.scalars(select(Job)))
    assert [entry.detail["refused"] for entry in refused] == ["sprint", "sprint", "intent", "new"]
    assert {entry.detail["phrase"] for entry in refused} == {"Brand X"}
    flow.service.change_blocklist(CHANNEL, DIRECTOR, remove="brand x")
    flow.service.run_sprint(
        flow.project_id, OPERATOR, "a brand x courier", ["ink", "clay", "neon"], 15
    )


def test_recipe_volume_and_fix_texts_are_checked(flow: Flow) -> None:
    flow.start()
    flow.hero()
    flow.service.change_blocklist(CHANNEL, DIRECTOR, add="gore")
    with pytest.raises(errors.Blocked):
        flow.service.run_volume(flow.project_id, OPERATOR, ["red bike", "gore bike"], per_value=2)
    with pytest.raises(errors.Blocked):
        flow.service.lock_recipe(flow.project_id, OPERATOR, number=3, value="gore")
    with pytest.raises(errors.Blocked):
        flow.service.fix_image(
            flow.project_id, OPERATOR, 16, mode="inpaint", instruction="add gore", cells=[4]
        )


def test_only_whoever_sets_the_channel_changes_its_blocked_words(service: PlaybookService) -> None:
    service.update_settings(CHANNEL, DIRECTOR, director=DIRECTOR)
    with pytest.raises(errors.NotAuthorized):
        service.change_blocklist(CHANNEL, OPERATOR, add="logo")
    assert service.change_blocklist(CHANNEL, DIRECTOR, add="logo") == ["logo"]
    assert service.change_blocklist(CHANNEL, DIRECTOR, add="LOGO") == ["logo"]  # already there
    with pytest.raises(errors.NotFound):
        service.change_blocklist(CHANNEL, DIRECTOR, remove="watermark")
    with pytest.raises(errors.InvalidInput):
        service.change_blocklist(CHANNEL, DIRECTOR, add=" ")
    assert service.change_blocklist(CHANNEL, DIRECTOR, remove="Logo") == []
