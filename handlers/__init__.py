"""Thin Bolt listeners by kind: parse, call the service, render. No storage imports here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.slack.context import Atelier
from handlers import actions, commands, home, messages, reactions, shortcuts, views


def register(app: App, atelier: Atelier) -> None:
    """Every listener, and the middleware that hands each one the Atelier in its context."""

    def with_atelier(context: dict[str, Any], next: Callable[[], Any]) -> Any:  # noqa: A002 - Bolt's name
        context["atelier"] = atelier
        return next()

    app.use(with_atelier)
    for module in (commands, messages, actions, views, reactions, home, shortcuts):
        module.register(app)
