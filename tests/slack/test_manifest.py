"""manifest.yml creates an app that delivers everything Atelier listens for."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())


def test_the_slash_command_events_interactivity_and_socket_mode() -> None:
    assert [c["command"] for c in MANIFEST["features"]["slash_commands"]] == ["/atelier"]
    assert set(MANIFEST["settings"]["event_subscriptions"]["bot_events"]) == {
        "message.channels",
        "message.groups",
        "reaction_added",
        "app_mention",
    }
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True


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
