"""One place that turns a parsed command into a service call, for slash commands and thread replies."""

from __future__ import annotations

import io
import logging
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from PIL import Image, UnidentifiedImageError

from bot.playbook.errors import InvalidInput, NotFound, PlaybookError
from bot.playbook.plays import info as play_info
from bot.slack import blocks
from bot.slack.grammar import Command, usage
from handlers.context import Atelier
from storage.models import Project, utcnow
from storage.pngs import mask_coverage, to_png

log = logging.getLogger("atelier.slack")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# Verbs that change a project; the root message's tracker is refreshed after them.
MUTATING = {
    "intent",
    "sprint",
    "rank",
    "approve",
    "lock",
    "volume",
    "keep",
    "cull",
    "upscale",
    "fix",
    "handoff",
    "review",
    "sendback",
    "skip",
    "budget",
    "cancel",
    "roles",
}


@dataclass
class Reply:
    """What only the person who asked sees."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = field(default=None)


def run(
    atelier: Atelier,
    command: Command,
    *,
    user: str,
    channel: str,
    thread_ts: str | None,
    trigger_id: str | None = None,
    files: list[dict[str, Any]] | None = None,
) -> Reply | None:
    """Do what the command says; PlaybookErrors become replies that say what to do next."""
    service = atelier.service
    verb, args = command.verb, command.args
    if verb == "help":
        return Reply(usage(args.get("topic")))
    if verb == "new" and thread_ts is not None:
        return Reply(
            "Start a new project from the channel with `/atelier new <intent>`; this thread already has one."
        )
    try:
        if verb == "new":
            outcome = service.start_project(channel, user, args["intent"])
            service.refresh_root(outcome.project.id)
            note = " ".join(outcome.warnings)
            return Reply(
                f"Project {outcome.project.id} started; its thread is where the plays happen. {note}".strip()
            )
        if verb == "settings":
            return _settings(atelier, channel, user, args["changes"])
        if verb == "roles" and thread_ts is None and command.project is None:
            service.update_settings(channel, user, **args)
            return Reply("Channel default roles saved; new projects start with them.")
        project = atelier.project_for(channel, thread_ts, command.project)
        if project is None:
            return Reply(
                "There is no project here yet. Start one with `/atelier new <the intent in one sentence>`."
            )
        reply = _project_verb(
            atelier, project, command, user=user, trigger_id=trigger_id, files=files or []
        )
        if verb in MUTATING:
            service.refresh_root(project.id)
        return reply
    except NotFound as error:
        return Reply(f":mag: {error}")
    except PlaybookError as error:
        return Reply(f":no_entry: {error}")


def _project_verb(
    atelier: Atelier,
    project: Project,
    command: Command,
    *,
    user: str,
    trigger_id: str | None,
    files: list[dict[str, Any]],
) -> Reply | None:
    service = atelier.service
    verb, args, pid = command.verb, command.args, project.id
    if verb == "roles":
        service.set_roles(pid, user, **args)
        service.notify(
            project,
            "Roles updated: "
            + ", ".join(f"{role} {blocks.mention(who)}" for role, who in args.items()),
        )
        return None
    if verb == "intent":
        service.set_intent(pid, user, args["intent"])
        service.notify(project, f":memo: Intent restated: {args['intent']}")
        return None
    if verb == "sprint":
        outcome = service.run_sprint(pid, user, args["subject"], args["styles"], args["count"])
        return _warn(outcome.warnings)
    if verb == "rank":
        if not args["numbers"]:
            if trigger_id is None:
                return Reply(usage("rank"))
            images = [image for image in service.images(pid) if image.play == "sprint"]
            return Reply("Opening the ranking…", modal=blocks.rank_modal(project, images))
        service.rank(pid, user, args["numbers"])
        ranked = ", ".join(f"#{n}" for n in args["numbers"])
        service.notify(
            project,
            f":trophy: {blocks.mention(user)} ranked {ranked}. Approve to take #{args['numbers'][0]} as the direction.",
        )
        return None
    if verb == "approve":
        return approve(atelier, project, user, args.get("what"))
    if verb == "lock":
        service.lock_recipe(
            pid,
            user,
            number=args.get("number"),
            template=args.get("template"),
            negative=args.get("negative"),
            steps=args.get("steps"),
            guidance=args.get("guidance"),
            seed=args.get("seed"),
            size=args.get("size"),
        )
        return None
    if verb == "volume":
        outcome = service.run_volume(
            pid, user, args["values"], args["per_value"], args["overrides"]
        )
        return _warn(outcome.warnings)
    if verb in ("keep", "cull"):
        service.mark(
            pid,
            user,
            keep=args["numbers"] if verb == "keep" else [],
            cull=args["numbers"] if verb == "cull" else [],
        )
        service.notify(
            project,
            f"{'Kept' if verb == 'keep' else 'Culled'} "
            + ", ".join(f"#{n}" for n in args["numbers"])
            + ".",
        )
        return None
    if verb == "upscale":
        service.upscale_keepers(pid, user, args["numbers"] or None)
        return None
    if verb == "fix":
        mask_hash, coverage = (None, None)
        if args["mask"]:
            mask_hash, coverage = _mask_from_upload(atelier, project, args["number"], files)
        outcome = service.fix_image(
            pid,
            user,
            args["number"],
            mode=args["mode"],
            instruction=args["instruction"],
            cells=args["cells"],
            mask_hash=mask_hash,
            mask_coverage=coverage,
            strength=args["strength"],
        )
        atelier.warn(project, outcome.warnings)
        return None
    if verb == "handoff":
        service.hand_off(pid, user, args["number"], args["editor"])
        service.notify(
            project,
            f":handshake: #{args['number']} is with {blocks.mention(args['editor'])}. Their next image upload in this thread becomes its next version.",
        )
        return None
    if verb == "review":
        send_to_gate(atelier, project, user, args["number"])
        return None
    if verb == "sendback":
        outcome = service.review(
            pid,
            user,
            args["number"],
            decision="send_back",
            reason_item=args["item"],
            note=args["note"],
        )
        service.notify(
            project,
            f":leftwards_arrow_with_hook: {blocks.mention(user)} sent #{args['number']} back: {blocks.SHORT[args['item']]}. {args['note']}".strip(),
        )
        atelier.warn(project, outcome.warnings)
        return None
    if verb == "skip":
        service.skip_play(pid, user, args["play"], args["reason"])
        service.notify(
            project,
            f":fast_forward: {blocks.mention(user)} skipped the {play_info(args['play']).title}: _{args['reason']}_",
        )
        return None
    if verb == "budget":
        service.raise_budget(pid, user, args["number"], args["budget"])
        service.notify(project, f"#{args['number']}'s iteration budget is now {args['budget']}.")
        return None
    if verb == "status":
        return Reply(
            f"Project {pid}",
            blocks.status_blocks(
                service.project(pid),
                service.plays(pid),
                [j for j in service.jobs(project.channel_id) if j.project_id == pid],
            ),
        )
    if verb == "recipe":
        recipe = service.recipe(pid)
        if recipe is None:
            return Reply("No recipe is locked yet. The Operator locks one with `lock N`.")
        return Reply(f"Recipe card v{recipe.version}", blocks.recipe_card(recipe))
    if verb == "metrics":
        return metrics(atelier, project, args["scope"], args["days"])
    if verb == "queue":
        jobs = service.jobs(project.channel_id)
        return Reply(
            "\n".join(
                f"job {job.id} (project {job.project_id}): {blocks.progress_text(job)}"
                for job in jobs
            )
            or "The queue is empty."
        )
    if verb == "cancel":
        cancelled = service.cancel(pid, user, args["job"])
        service.notify(
            project,
            f"Cancelled {len(cancelled)} job(s): " + ", ".join(str(job.id) for job in cancelled)
            if cancelled
            else "Nothing was queued to cancel.",
        )
        return None
    return Reply(usage())


def _warn(warnings: list[str]) -> Reply | None:
    return Reply(":warning: " + " ".join(warnings)) if warnings else None


def approve(atelier: Atelier, project: Project, user: str, what: str | None) -> Reply | None:
    service = atelier.service
    if what == "direction" or (
        what is None
        and project.direction_approved_at is None
        and service.plays(project.id)[0].status != "skipped"
    ):
        service.approve_direction(project.id, user)
        direction = service.project(project.id).direction_image_id
        number = service.image_by_id(direction).number if direction else None  # type: ignore[union-attr]
        service.notify(
            project,
            f":white_check_mark: {blocks.mention(user)} approved the direction: #{number}. Operator: `lock {number}` to make it a recipe.",
        )
        return None
    service.approve_hero(project.id, user)
    service.notify(
        project,
        f":white_check_mark: {blocks.mention(user)} approved the hero. The recipe is locked: `volume <value>; <value> x4`.",
    )
    return None


def send_to_gate(atelier: Atelier, project: Project, user: str, number: int) -> None:
    view = atelier.service.submit_for_review(project.id, user, number)
    atelier.service.post_gate(project.id, view.image.number)


def metrics(atelier: Atelier, project: Project, scope: str, days: int) -> Reply:
    now = utcnow()
    window = timedelta(days=days)
    scope_args: dict[str, Any] = (
        {"project_id": project.id}
        if scope == "project"
        else {"channel_id": project.channel_id}
        if scope == "channel"
        else {}
    )
    current = atelier.service.metrics(since=now - window, until=now, **scope_args)
    previous = atelier.service.metrics(since=now - 2 * window, until=now - window, **scope_args)
    title = {"project": f"Project {project.id}", "channel": "This channel", "team": "The team"}[
        scope
    ]
    return Reply(f"{title} metrics", blocks.metrics_blocks(title, current, previous, days))


def _settings(atelier: Atelier, channel: str, user: str, changes: dict[str, Any]) -> Reply:
    if changes:
        atelier.service.update_settings(channel, user, **changes)
    current = atelier.service.settings(channel)
    return Reply(
        f"Channel settings{' saved' if changes else ''}: Director {blocks.mention(current.director)}, Operator {blocks.mention(current.operator)}, "
        f"Reviewer {blocks.mention(current.reviewer)}, iteration budget {current.iteration_budget}, review cool-off {current.review_cooloff_minutes} min, "
        f"model `{current.model}`, queue limit {current.queue_limit_per_user} images per person."
    )


def fetch_upload(atelier: Atelier, file: dict[str, Any]) -> Image.Image:
    """Download a file someone shared and open it as an image, refusing what isn't one."""
    size = int(file.get("size") or 0)
    if size > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"`{file.get('name')}` is {size / 1e6:.1f} MB; uploads are limited to 20 MB."
        )
    url = file.get("url_private_download") or file.get("url_private")
    if not url:
        raise InvalidInput("That file has no download link; upload it again.")
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {atelier.client.token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        data = response.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"`{file.get('name')}` is over 20 MB; uploads are limited to 20 MB.")
    try:
        picture = Image.open(io.BytesIO(data))
        picture.load()
    except (UnidentifiedImageError, OSError) as error:
        raise InvalidInput(
            f"`{file.get('name')}` is not an image Atelier can read; upload a PNG or JPEG."
        ) from error
    return picture


def _mask_from_upload(
    atelier: Atelier, project: Project, number: int, files: list[dict[str, Any]]
) -> tuple[str, float]:
    if not files:
        raise InvalidInput(
            "Attach the mask image to the same message: `fix 12 mask <instruction>` with a black-and-white PNG (white = repair)."
        )
    mask = fetch_upload(atelier, files[0]).convert("L")
    image = atelier.service.image(project.id, number)
    if mask.size != (image.width, image.height):
        raise InvalidInput(
            f"The mask is {mask.width}×{mask.height} but #{number} is {image.width}×{image.height}; make it the same size."
        )
    digest = atelier.store.put(to_png(mask.convert("RGB"), {"mask_for": number}))
    return digest, mask_coverage(mask)


def record_editor_upload(
    atelier: Atelier, project: Project, user: str, files: list[dict[str, Any]], number: int | None
) -> Reply | None:
    """A file from the assigned editor becomes the image's next version."""
    picture = fetch_upload(atelier, files[0])
    original = atelier.service.image(project.id, number) if number else None
    params = {
        "edited_from": original.number if original else None,
        "editor": user,
        "file": files[0].get("name"),
    }
    digest = atelier.store.put(to_png(picture.convert("RGB"), params))
    version = atelier.service.record_editor_file(
        project.id,
        user,
        file_hash=digest,
        width=picture.width,
        height=picture.height,
        number=number,
    )
    atelier.service.post_repair(project.id, version.number)
    atelier.service.refresh_root(project.id)
    return None
