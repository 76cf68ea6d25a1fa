"""Modal submissions: ranking, repairs, send-backs. Refusals show on the field at fault."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.playbook.errors import NotAuthorized, PlaybookError
from bot.playbook.plays.fix import parse_cells
from bot.slack.context import Atelier
from handlers.context import decide

log = logging.getLogger("atelier.slack")


def values_of(view: dict[str, Any]) -> dict[str, Any]:
    """action_id → the value a person chose or typed."""
    out: dict[str, Any] = {}
    for block in view["state"]["values"].values():
        for action_id, state in block.items():
            if "selected_options" in state:
                out[action_id] = [o["value"] for o in state["selected_options"]]
            elif "selected_option" in state:
                out[action_id] = (state["selected_option"] or {}).get("value")
            elif "selected_user" in state:
                out[action_id] = state["selected_user"]
            elif "selected_conversation" in state:
                out[action_id] = state["selected_conversation"]
            else:
                out[action_id] = state.get("value")
    return out


def _submit(
    ack: Ack,
    atelier: Atelier,
    body: dict[str, Any],
    project_id: int,
    work: Callable[[], object],
    field: Callable[[PlaybookError], str],
) -> None:
    """Run the use case, then ack: a refusal shows on `field(error)`, and a role refusal in the thread too."""
    user = body["user"]["id"]
    try:
        decide(atelier, body, work)
    except PlaybookError as error:
        ack(response_action="errors", errors={field(error): str(error)[:150]})
        if isinstance(error, NotAuthorized):
            project = atelier.service.project(project_id)
            atelier.whisper(
                project.channel_id, user, f":no_entry: {error}", thread_ts=project.thread_ts
            )
        return
    ack()


def rank_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    values = values_of(view)
    numbers = [int(values[f"rank_{i}"]) for i in range(5) if values.get(f"rank_{i}")]
    if len(set(numbers)) != len(numbers):
        ack(response_action="errors", errors={"rank_1": "Each candidate can be ranked once."})
        return
    atelier: Atelier = context["atelier"]
    project_id, user = int(view["private_metadata"]), body["user"]["id"]
    _submit(
        ack,
        atelier,
        body,
        project_id,
        lambda: atelier.service.rank(project_id, user, numbers),
        lambda _error: "rank_0",
    )


def _fix_field(error: PlaybookError) -> str:
    said = str(error)
    if "region" in said or "cell" in said:
        return "cells"
    return "strength" if "strength" in said.lower() else "instruction"


def fix_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    atelier: Atelier = context["atelier"]
    values = values_of(view)
    project_id, number = (int(part) for part in view["private_metadata"].split(":"))
    user = body["user"]["id"]

    def fix() -> object:
        cells = parse_cells(" ".join(values.get("cells") or [])) if values.get("cells") else []
        strength = float(values["strength"]) if values.get("strength") else None
        return atelier.service.fix_image(
            project_id,
            user,
            number,
            mode=values.get("mode") or "inpaint",
            instruction=values.get("instruction") or "",
            cells=cells,
            strength=strength,
        )

    _submit(ack, atelier, body, project_id, fix, _fix_field)


def sendback_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    atelier: Atelier = context["atelier"]
    values = values_of(view)
    project_id, number = (int(part) for part in view["private_metadata"].split(":"))
    if not values.get("item"):
        ack(response_action="errors", errors={"item": "Pick the checklist item this image fails."})
        return
    item = values["item"]
    _submit(
        ack,
        atelier,
        body,
        project_id,
        lambda: atelier.service.review(
            project_id,
            body["user"]["id"],
            number,
            decision="send_back",
            reason_item=item,
            note=values.get("note") or "",
        ),
        lambda _error: "item",
    )


def register(app: App) -> None:
    app.view("rank")(rank_submitted)
    app.view("fix")(fix_submitted)
    app.view("sendback")(sendback_submitted)
