"""Modal submissions: ranking, repairs, send-backs. Refusals show on the field at fault."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.playbook.errors import NotAuthorized, PlaybookError
from bot.playbook.gate import SHORT, GateItem
from bot.playbook.service import parse_cells
from bot.slack import blocks
from handlers.context import Atelier, retried

log = logging.getLogger("atelier.slack")


def _values(view: dict[str, Any]) -> dict[str, Any]:
    """action_id → the value a person chose or typed."""
    out: dict[str, Any] = {}
    for block in view["state"]["values"].values():
        for action_id, state in block.items():
            if "selected_options" in state:
                out[action_id] = [o["value"] for o in state["selected_options"]]
            elif "selected_option" in state:
                out[action_id] = (state["selected_option"] or {}).get("value")
            else:
                out[action_id] = state.get("value")
    return out


def _explain(atelier: Atelier, project_id: int, user: str, error: PlaybookError) -> None:
    """A refusal for want of a role also reaches the person in the thread, not only the modal."""
    if isinstance(error, NotAuthorized):
        project = atelier.service.project(project_id)
        atelier.whisper(
            project.channel_id, user, f":no_entry: {error}", thread_ts=project.thread_ts
        )


def register(app: App, atelier: Atelier) -> None:
    @app.view("rank")
    def rank(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = _values(view)
        numbers = [int(values[f"rank_{i}"]) for i in range(5) if values.get(f"rank_{i}")]
        if len(set(numbers)) != len(numbers):
            ack(response_action="errors", errors={"rank_1": "Each candidate can be ranked once."})
            return
        project_id, user = int(view["private_metadata"]), body["user"]["id"]
        try:
            retried(lambda: atelier.service.rank(project_id, user, numbers))
        except PlaybookError as error:
            ack(response_action="errors", errors={"rank_0": str(error)[:150]})
            _explain(atelier, project_id, user, error)
            return
        ack()
        project = atelier.service.project(project_id)
        atelier.service.notify(
            project,
            f":trophy: {blocks.mention(user)} ranked {', '.join(f'#{n}' for n in numbers)}. Approve to take #{numbers[0]} as the direction.",
        )

    @app.view("fix")
    def fix(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = _values(view)
        project_id, number = (int(part) for part in view["private_metadata"].split(":"))
        user = body["user"]["id"]
        mode = values.get("mode") or "inpaint"
        try:
            cells = parse_cells(" ".join(values.get("cells") or [])) if values.get("cells") else []
            strength = float(values["strength"]) if values.get("strength") else None
            outcome = retried(
                lambda: atelier.service.fix_image(
                    project_id,
                    user,
                    number,
                    mode=mode,
                    instruction=values.get("instruction") or "",
                    cells=cells,
                    strength=strength,
                )
            )
        except PlaybookError as error:
            field = (
                "cells"
                if "region" in str(error) or "cell" in str(error)
                else "strength"
                if "strength" in str(error).lower()
                else "instruction"
            )
            ack(response_action="errors", errors={field: str(error)[:150]})
            _explain(atelier, project_id, user, error)
            return
        ack()
        project = atelier.service.project(project_id)
        atelier.warn(project, outcome.warnings)
        atelier.service.refresh_root(project_id)

    @app.view("sendback")
    def sendback(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = _values(view)
        project_id, number = (int(part) for part in view["private_metadata"].split(":"))
        user = body["user"]["id"]
        if not values.get("item"):
            ack(
                response_action="errors",
                errors={"item": "Pick the checklist item this image fails."},
            )
            return
        item = GateItem(values["item"])
        try:
            outcome = retried(
                lambda: atelier.service.review(
                    project_id,
                    user,
                    number,
                    decision="send_back",
                    reason_item=item,
                    note=values.get("note") or "",
                )
            )
        except PlaybookError as error:
            ack(response_action="errors", errors={"item": str(error)[:150]})
            _explain(atelier, project_id, user, error)
            return
        ack()
        project = atelier.service.project(project_id)
        atelier.service.notify(
            project,
            f":leftwards_arrow_with_hook: {blocks.mention(user)} sent #{number} back: {SHORT[item]}. {values.get('note') or ''}".strip(),
        )
        atelier.warn(project, outcome.warnings)
        atelier.service.refresh_root(project_id)
