"""Shortcuts: *New project* (global) opens a modal; on an image message, *Info*, *Send to review*,
*Vary subtly* and *Re-roll* do what typing the verb in the thread does, role rules and all,
because they are that verb, written for the image the person chose."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.playbook.errors import PlaybookError
from bot.slack import modals
from bot.slack.context import Atelier
from handlers import verbs
from handlers.context import Call, Reply, decide, went_wrong
from handlers.views import values_of

# Each message shortcut: the verb it stands for ({n}: the image's number), and its title.
ON_AN_IMAGE = {
    "image_info": ("info {n}", "Info"),
    "image_review": ("review {n}", "Send to review"),
    "image_vary": ("vary {n} subtle", "Vary subtly"),
    "image_reroll": ("reroll {n}", "Re-roll"),
}
ONLY_IMAGES = (
    ":information_source: This shortcut works on Atelier's image messages: a moodboard, a "
    "batch, a hero, an image at the gate. On anything else, type the verb with the image's "
    "number in its project's thread, e.g. `info 7`."
)


def on_an_image(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """On one image, run its verb; on a moodboard or batch, first ask which image."""
    ack()
    atelier: Atelier = context["atelier"]
    user, channel = body["user"]["id"], body["channel"]["id"]
    message = body.get("message") or {}
    ref = atelier.index.message(channel, body.get("message_ts") or message.get("ts", ""))
    image = atelier.service.image_by_id(ref.image_id) if ref and ref.image_id else None
    shown = atelier.service.job_images(ref.job_id) if ref and ref.job_id and not image else []
    if ref is None or ref.project_id is None or not (image or shown):
        atelier.whisper(channel, user, ONLY_IMAGES, thread_ts=message.get("thread_ts"))
        return
    shortcut = body["callback_id"]
    if image is None:
        numbers = [each.number for each in shown]
        title = ON_AN_IMAGE[shortcut][1]
        view = modals.pick_image_modal(ref.project_id, shortcut, title, numbers)
        atelier.client.views_open(trigger_id=body["trigger_id"], view=view)
        return
    _run(atelier, body, user, ref.project_id, shortcut, image.number)


def image_picked(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    ack()
    atelier: Atelier = context["atelier"]
    project_id, shortcut = view["private_metadata"].split(":")
    number = int(values_of(view)["number"])
    _run(atelier, body, body["user"]["id"], int(project_id), shortcut, number)


def _run(
    atelier: Atelier, body: dict[str, Any], user: str, project_id: int, shortcut: str, number: int
) -> None:
    """The shortcut's verb, as if typed in the project's thread; the answer only they see."""
    project = atelier.service.project(project_id)
    text = f"p{project.id} " + ON_AN_IMAGE[shortcut][0].format(n=number)
    call = Call(
        atelier,
        verbs.parse(text),
        user=user,
        channel=project.channel_id,
        thread_ts=project.thread_ts,
        trigger_id=body.get("trigger_id"),
        files=[],
    )
    try:
        reply = decide(atelier, body, lambda: verbs.run(call))
    except Exception:
        reply = Reply(went_wrong("shortcut failed", shortcut=shortcut))
    if reply is not None:
        atelier.whisper(
            project.channel_id, user, reply.text, thread_ts=project.thread_ts, blocks=reply.blocks
        )


def new_project(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()
    atelier: Atelier = context["atelier"]
    atelier.client.views_open(trigger_id=body["trigger_id"], view=modals.new_project_modal())


def new_project_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """Start it as `new` would, with the hats chosen; a refusal shows on the intent."""
    atelier: Atelier = context["atelier"]
    chosen = values_of(view)
    user = body["user"]["id"]
    try:
        outcome = decide(
            atelier,
            body,
            lambda: atelier.service.start_project(
                chosen["channel"],
                user,
                chosen.get("intent") or "",
                director=chosen.get("director"),
                operator=chosen.get("operator"),
                reviewer=chosen.get("reviewer"),
            ),
        )
    except PlaybookError as error:
        ack(response_action="errors", errors={"intent": str(error)[:150]})
        return
    ack()
    if outcome is not None:
        atelier.whisper(chosen["channel"], user, verbs.started(outcome))


def register(app: App) -> None:
    for callback_id in ON_AN_IMAGE:
        app.shortcut(callback_id)(on_an_image)
    app.view("pick_image")(image_picked)
    app.shortcut("new_project")(new_project)
    app.view("new_project")(new_project_submitted)
