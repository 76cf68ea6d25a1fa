"""manifest.yml creates an app that delivers everything Atelier listens for."""

from __future__ import annotations

from pathlib import Path

import yaml

from handlers.shortcuts import ON_AN_IMAGE

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())


def test_the_slash_command_events_interactivity_and_socket_mode() -> None:
    assert [c["command"] for c in MANIFEST["features"]["slash_commands"]] == ["/atelier"]
    assert set(MANIFEST["settings"]["event_subscriptions"]["bot_events"]) == {
        "message.channels",
        "message.groups",
        "reaction_added",
        "app_mention",
        "app_home_opened",
    }
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True


def test_every_shortcut_in_the_manifest_is_handled() -> None:
    shortcuts = MANIFEST["features"]["shortcuts"]
    assert {s["callback_id"]: s["type"] for s in shortcuts} == {
        **{callback: "message" for callback in ON_AN_IMAGE},
        "new_project": "global",
    }
    assert all(len(s["name"]) <= 24 and len(s["description"]) <= 80 for s in shortcuts)


def test_the_scopes_cover_every_web_api_method_atelier_calls() -> None:
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    needed = {
        "commands",
        "chat:write",
        "files:write",
        "files:read",
        "channels:history",
        "groups:history",
        "reactions:read",
        "app_mentions:read",
    }
    assert needed <= scopes
