"""App Home: published when a person opens the tab; its one-click buttons take the step."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.playbook.errors import PlaybookError
from bot.slack.context import Atelier
from handlers.context import decide, went_wrong

# The steps Home offers as one click, by the button's action_id (bot.playbook.next_step).
APPROVALS = {"home_approve_direction": "direction", "home_approve_hero": "hero"}


def home_opened(event: dict[str, Any], context: BoltContext) -> None:
    if event.get("tab") != "home":
        return  # the Messages tab
    atelier: Atelier = context["atelier"]
    atelier.home.opened(event["user"])


def home_click(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    """Approve from Home; a refusal is said in the project's thread, and Home is redrawn."""
    ack()
    atelier: Atelier = context["atelier"]
    user, project_id = body["user"]["id"], int(action["value"])
    what = APPROVALS[action["action_id"]]
    try:
        decide(atelier, body, lambda: atelier.service.approve(project_id, user, what))
    except PlaybookError as error:
        project = atelier.service.project(project_id)
        atelier.whisper(
            project.channel_id, user, f":no_entry: {error}", thread_ts=project.thread_ts
        )
    except Exception:
        project = atelier.service.project(project_id)
        said = went_wrong("home action failed", action=action["action_id"])
        atelier.whisper(project.channel_id, user, said, thread_ts=project.thread_ts)
    atelier.home.publish(user)


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
    for action_id in APPROVALS:
        app.action(action_id)(home_click)
