"""Buttons, checkboxes and selects on Atelier's messages, one handler per action_id in ACTIONS."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.playbook.errors import PlaybookError
from bot.slack import blocks, modals
from bot.slack.context import Atelier
from handlers.context import decide, went_wrong

log = logging.getLogger("atelier.slack")
Handler = Callable[[Atelier, dict[str, Any], dict[str, Any]], None]


def _where(body: dict[str, Any]) -> tuple[str, str, str | None]:
    container = body.get("container", {})
    message = body.get("message", {})
    return (
        body["user"]["id"],
        container.get("channel_id") or body["channel"]["id"],
        message.get("thread_ts") or container.get("thread_ts"),
    )


def _project_image(value: str) -> tuple[int, int]:
    project, number = value.split(":")
    return int(project), int(number)


def rank_open(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    project = atelier.service.project(int(action["value"]))
    if body["user"]["id"] != project.director:
        raise PlaybookError(
            f"Only the Director ({blocks.mention(project.director)}) ranks the moodboard; nothing was changed."
        )
    images = [image for image in atelier.service.images(project.id) if image.play == "sprint"]
    atelier.client.views_open(
        trigger_id=body["trigger_id"], view=modals.rank_modal(project, images)
    )


def approve_direction(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    atelier.service.approve(int(action["value"]), body["user"]["id"], "direction")


def approve_hero(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    atelier.service.approve(int(action["value"]), body["user"]["id"], "hero")


def _ticked_keepers(body: dict[str, Any]) -> tuple[list[int], list[int]]:
    """The batch's numbers shown, and those ticked (from the click's state, else the message)."""
    shown: list[int] = []
    kept: list[int] = []
    values = body.get("state", {}).get("values", {})
    for block in body["message"].get("blocks", []):
        for element in block.get("elements", []):
            if not re.fullmatch(r"keep_\d+", element.get("action_id", "")):
                continue
            shown += [int(option["value"]) for option in element["options"]]
            state = values.get(block["block_id"], {}).get(element["action_id"])
            chosen = state["selected_options"] if state else element.get("initial_options", [])
            kept += [int(option["value"]) for option in chosen]
    return shown, kept


def regenerate(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    """*Regenerate #N*, offered when a fix would cover more than a third of the image."""
    project_id, number = _project_image(action["value"])
    atelier.service.regenerate(project_id, body["user"]["id"], number)


def ship_pack(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    """*Ship pack* on the root: the zip of cleared finals, posted in the thread."""
    atelier.service.ship(int(action["value"]), body["user"]["id"])


def batch_save(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    """Ticked boxes are keepers; everything else in this batch is culled."""
    shown, kept = _ticked_keepers(body)
    culled = [number for number in shown if number not in kept]
    atelier.service.mark(
        int(action["value"]), body["user"]["id"], keep=kept, cull=culled, batch=True
    )


def upscale_keepers(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    atelier.service.upscale_keepers(int(action["value"]), body["user"]["id"])


def fix_open(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    number = int(action["selected_option"]["value"])
    user, channel, thread = _where(body)
    project = atelier.project_for(channel, thread, None)
    if project is None:
        raise PlaybookError("This batch's project is gone.")
    if user != project.operator:
        raise PlaybookError(
            f"Only the Operator ({blocks.mention(project.operator)}) repairs images; nothing was changed."
        )
    spent, budget = atelier.service.budget_of(project.id, number)
    atelier.client.views_open(
        trigger_id=body["trigger_id"],
        view=modals.fix_modal(project, atelier.service.image(project.id, number), spent, budget),
    )


def gate_boxes(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    _, project_id, number = action["block_id"].split(":")
    ticked = {option["value"] for option in action.get("selected_options", [])}
    atelier.service.save_gate_draft(int(project_id), body["user"]["id"], int(number), ticked=ticked)


def gate_alt(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    _, project_id, number = action["block_id"].split(":")
    atelier.service.save_gate_draft(
        int(project_id), body["user"]["id"], int(number), alt_text=action.get("value") or ""
    )


def _gate_state(
    body: dict[str, Any], project_id: int, number: int
) -> tuple[set[str] | None, str | None]:
    values = body.get("state", {}).get("values", {})
    boxes = values.get(f"gate_boxes:{project_id}:{number}", {}).get("gate_boxes")
    alt = values.get(f"gate_alt:{project_id}:{number}", {}).get("gate_alt")
    ticked = {o["value"] for o in boxes["selected_options"]} if boxes else None
    return ticked, (alt or {}).get("value") if alt else None


def gate_clear(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    project_id, number = _project_image(action["value"])
    ticked, alt = _gate_state(body, project_id, number)
    atelier.service.clear(project_id, body["user"]["id"], number, ticked=ticked, alt_text=alt)


def gate_sendback(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    project_id, number = _project_image(action["value"])
    project = atelier.service.project(project_id)
    if body["user"]["id"] != project.reviewer:
        raise PlaybookError(
            f"Only the Reviewer ({blocks.mention(project.reviewer)}) can send an image back; nothing was changed."
        )
    atelier.client.views_open(
        trigger_id=body["trigger_id"],
        view=modals.sendback_modal(project, number, atelier.service.checklist(project.channel_id)),
    )


def send_to_gate(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    project_id, number = _project_image(action["value"])
    atelier.service.submit_for_review(project_id, body["user"]["id"], number)


def held_release(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    project_id, number = _project_image(action["value"])
    atelier.service.decide_held(project_id, body["user"]["id"], number, "release")


def held_cull(atelier: Atelier, body: dict[str, Any], action: dict[str, Any]) -> None:
    project_id, number = _project_image(action["value"])
    atelier.service.decide_held(project_id, body["user"]["id"], number, "cull")


# Every button and input that does something, by action_id (the keep ticks only hold state).
ACTIONS: dict[str, Handler] = {
    "rank_open": rank_open,
    "approve_direction": approve_direction,
    "approve_hero": approve_hero,
    "batch_save": batch_save,
    "upscale_keepers": upscale_keepers,
    "fix_open": fix_open,
    "gate_boxes": gate_boxes,
    "gate_alt": gate_alt,
    "gate_clear": gate_clear,
    "gate_sendback": gate_sendback,
    "send_to_gate": send_to_gate,
    "regenerate": regenerate,
    "ship_pack": ship_pack,
    "held_release": held_release,
    "held_cull": held_cull,
}


def on_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any]
) -> None:
    """Ack first; a refusal reaches the clicker as an ephemeral explanation, nothing changes."""
    ack()
    atelier: Atelier = context["atelier"]
    user, channel, thread = _where(body)
    work = ACTIONS[action["action_id"]]
    try:
        decide(atelier, body, lambda: work(atelier, body, action))
    except PlaybookError as error:
        atelier.whisper(channel, user, f":no_entry: {error}", thread_ts=thread)
    except Exception:
        said = went_wrong("action failed", action=action.get("action_id"))
        atelier.whisper(channel, user, said, thread_ts=thread)


def keep_toggle(ack: Ack) -> None:
    ack()  # the ticks live in the message until "Save keep/cull"


def register(app: App) -> None:
    for name in ACTIONS:
        app.action(name)(on_action)
    app.action(re.compile(r"^keep_\d+$"))(keep_toggle)
