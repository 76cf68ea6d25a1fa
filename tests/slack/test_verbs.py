"""One registry entry per verb; help, the README and manifest.yml all follow it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.playbook.gate import GateItem
from bot.slack.grammar import UsageError, markdown, usage_hint
from bot.workbench import docs
from handlers.verbs import HELP_GROUPS, VERBS, did_you_mean, is_verb, parse, usage

ROOT = Path(__file__).parents[2]


def test_help_lists_every_verb_with_who_may_run_it() -> None:
    listed = usage()
    for name, verb in VERBS.items():
        assert f"• {verb.usage}" in listed, name
    assert "`approve` — approve the ranked direction, or the hero (Director)" in listed
    assert usage("sendback").startswith("Usage: `sendback 12 license [b2 c2] <note>`")
    assert usage("sendback").endswith("(Reviewer)")


def test_the_readme_command_list_and_the_manifest_hint_are_generated_and_current() -> None:
    """Both are written by `make docs` from the registry; a hand edit or a stale copy fails."""
    readme = (ROOT / "README.md").read_text()
    assert docs.readme_block() in readme, "README's command list is stale: run `make docs`"
    for verb in VERBS.values():
        assert f"- {verb.usage}" in readme, f"README is missing: {verb.usage}"
    manifest_text = (ROOT / "manifest.yml").read_text()
    assert docs.with_hint(manifest_text) == manifest_text, "manifest.yml is stale: `make docs`"
    manifest = yaml.safe_load(manifest_text)
    hint = manifest["features"]["slash_commands"][0]["usage_hint"]
    assert hint == usage_hint(VERBS)
    first_words = [part.split()[0] for part in hint.split(" | ")]
    assert first_words and all(word in VERBS for word in first_words), first_words


def test_atelier_help_prints_the_markdown_and_the_hint(capsys: pytest.CaptureFixture[str]) -> None:
    from bot import cli

    assert cli.main(["help", "--markdown"]) == 0
    assert capsys.readouterr().out == markdown(VERBS, HELP_GROUPS)
    assert cli.main(["help", "--usage-hint"]) == 0
    assert capsys.readouterr().out.strip() == usage_hint(VERBS)


def test_a_thread_reply_counts_as_a_command_only_by_a_known_first_word() -> None:
    assert all(is_verb(name) for name in VERBS)
    assert is_verb("p3") and is_verb("Send") and is_verb("?")
    assert not any(is_verb(word) for word in ("looks", "great", "thanks", "lockdown"))
    assert all(re.fullmatch(r"[a-z]+", name) for name in VERBS)


def test_typos_are_answered_with_the_verb_they_resemble() -> None:
    with pytest.raises(UsageError, match=r"^Did you mean `sprint`\? Usage: `sprint"):
        parse("sprnt ink | clay | neon — a cat")
    with pytest.raises(UsageError, match="I don't know `frobnicate`"):
        parse("frobnicate")
    assert did_you_mean("reveiw 12") is not None and "`review`" in did_you_mean("reveiw 12")  # type: ignore[operator]
    for chat in ("thanks everyone", "call me later", "cool", "looks great", "ok"):
        assert did_you_mean(chat) is None, chat


def test_licence_is_license_and_status_takes_a_project() -> None:
    assert parse("sendback 12 licence wrong font").args["item"] == GateItem.LICENSE
    assert parse("status p3").args == {"project": 3}
    with pytest.raises(UsageError, match="takes nothing after it but a project"):
        parse("status now")


def test_every_verb_names_the_group_help_lists_it_under() -> None:
    from handlers.registry import GROUPS

    assert {name: verb.group for name, verb in VERBS.items() if verb.group not in GROUPS} == {}
    listed = [name for verbs in HELP_GROUPS.values() for name in verbs]
    assert sorted(listed) == sorted(VERBS)
