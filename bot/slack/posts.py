"""What each outbox kind says and shows in Slack: one renderer per kind, looked up in RENDERERS."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot import ship_pack as shipping
from bot.slack import blocks, comparisons, messages
from bot.slack.gate_posts import gate, held, pins, released
from bot.slack.notices import notice_text
from bot.slack.sender import Sender
from bot.slack.threads import post_in_thread
from bot.slack.threads import project_thread as _thread
from storage.models import Image, Job, OutboxMessage, Project

Renderer = Callable[[Sender, OutboxMessage, "Project | None"], dict[str, Any]]


def root(d: Sender, message: OutboxMessage, project: Project | None) -> dict[str, Any]:
    """The project's root message: posted once (it opens the thread), then updated in place."""
    assert project is not None
    standing = d.service.standing(project.id)
    text, root_blocks = blocks.project_root(
        standing.project, standing.plays, standing.step, standing.cleared
    )
    if project.thread_ts is None:
        ts = d.chat_post(message, channel=project.channel_id, text=text, blocks=root_blocks)
        d.service.attach_thread(project.id, ts)
        d.index.remember(project.channel_id, ts, "root", project_id=project.id)
        return {"ts": ts}
    d.client.chat_update(
        channel=project.channel_id, ts=project.thread_ts, text=text, blocks=root_blocks
    )
    return {"ts": project.thread_ts}


def digest(d: Sender, message: OutboxMessage, _project: Project | None) -> dict[str, Any]:
    payload = message.payload
    file_id = d.upload(
        message, payload["chart_hash"], "digest-trend.png", "Keep rate and rework, by week"
    )
    chart = blocks.image_block(
        file_id, "Line chart of weekly keep rate and rework after review", "Trend"
    )
    ts = d.chat_post(
        message,
        channel=message.channel_id,
        text=payload["text"],
        blocks=[*payload["blocks"], chart],
    )
    return {"ts": ts}


def notice(d: Sender, message: OutboxMessage, project: Project | None) -> dict[str, Any]:
    return post_in_thread(d, message, _thread(project), notice_text(message.payload))


def progress(d: Sender, message: OutboxMessage, project: Project | None) -> dict[str, Any]:
    """One message per job, updated in place as images land (`3/24`)."""
    project = _thread(project)
    job_id = message.payload["job_id"]
    job = d.service.job(job_id)
    assert job is not None
    ahead = d.service.forecast().get(job_id)
    text = blocks.progress_text(job, ahead)
    shown = d.index.progress_message(job_id)
    if shown is None:
        ts = d.chat_post(
            message,
            shared=f"progress-{job_id}",
            channel=project.channel_id,
            thread_ts=project.thread_ts,
            text=text,
        )
        d.index.remember(
            project.channel_id,
            ts,
            "progress",
            project_id=project.id,
            job_id=job_id,
            shown=blocks.progress_shown(job, ahead),
        )
        return {"ts": ts}
    d.client.chat_update(channel=project.channel_id, ts=shown.ts, text=text)
    d.index.mark_shown(shown.id, blocks.progress_shown(job, ahead))
    return {"ts": shown.ts}


def compare(d: Sender, message: OutboxMessage, project: Project | None) -> dict[str, Any]:
    """`compare N M`: the two side by side with a heat-map, and the share that changed."""
    project = _thread(project)
    before = d.service.image(project.id, message.payload["before"])
    after = d.service.image(project.id, message.payload["after"])
    file_id, shown = comparisons.upload(d, message, before, after)
    return post_in_thread(
        d,
        message,
        project,
        f"#{before.number} vs #{after.number}: {shown.changed_share:.1%} changed",
        comparisons.blocks(before, after, file_id, shown),
    )


def ship_pack(d: Sender, message: OutboxMessage, project: Project | None) -> dict[str, Any]:
    """One zip of the finals and their record; past Slack's file limit, a path for the operator.

    The zip is written to a temporary file and streamed from it: a pack of any size costs
    the same little memory, and no copy of it stays in the image store unless it has to.
    """
    project = _thread(project)
    record = d.service.ship_record(project.id)
    name = shipping.filename(record)
    summary = f"{len(record.finals)} final(s), finals.csv, recipes, gate record and audit log"
    with tempfile.TemporaryDirectory(prefix="atelier-pack-") as folder:
        path = Path(folder) / name
        size = shipping.write(record, d.store, path)
        shown = f"{size / 1024 / 1024:.1f} MB"
        if size > d.file_limit:
            where = d.store.put_path("ship-packs", name, path)  # replaces this project's last
            text = (
                f":package: The ship pack is {shown}, over Slack's file limit of "
                f"{d.file_limit / 1024 / 1024:.0f} MB, so it was not uploaded. The operator can "
                f"fetch it from the image store: `{where}` ({summary})."
            )
            return post_in_thread(d, message, project, text)
        text = f":package: Ship pack for project {project.id}: {summary} ({shown})."
        file_id = d.share_file(
            message,
            path,
            title=f"Ship pack, project {project.id}",
            channel=project.channel_id,
            thread_ts=str(project.thread_ts),
            initial_comment=text,
        )
    return {"file": file_id}


def repair(d: Sender, message: OutboxMessage, project: Project | None) -> dict[str, Any]:
    project = _thread(project)
    image = d.service.image(project.id, message.payload["number"])
    return post_version(d, message, project, image, f"New version #{image.number}")


def post_version(
    d: Sender,
    message: OutboxMessage,
    project: Project,
    image: Image,
    text: str,
    *,
    job_id: int | None = None,
    cells: list[int] | None = None,
) -> dict[str, Any]:
    """A new version of an image (a repair or an editor's file), with its way to the gate."""
    parent = d.service.image_by_id(image.parent_id) if image.parent_id else None
    file_id = d.upload(message, image.file_hash, f"image-{image.number}.png", f"#{image.number}")
    return post_in_thread(
        d,
        message,
        project,
        text,
        messages.repaired(project, image, parent, file_id, cells),
        kind="repair",
        job_id=job_id,
        image_id=image.id,
    )


def job_result(d: Sender, message: OutboxMessage, project: Project | None) -> dict[str, Any]:
    """A finished job: its progress line settles, then what it made (or why it failed)."""
    project = _thread(project)
    job = d.service.job(message.payload["job_id"])
    assert job is not None
    shown = d.index.progress_message(job.id)
    if shown is not None:
        d.client.chat_update(
            channel=project.channel_id, ts=shown.ts, text=blocks.progress_text(job)
        )
    if job.status == "failed":
        return post_in_thread(
            d,
            message,
            project,
            f":warning: Job {job.id} ({blocks.JOB_LABEL.get(job.kind, job.kind)}) failed: {job.error}. Nothing already made was lost; run it again when the cause is fixed.",
        )
    return JOB_RESULTS[job.kind](d, message, project, job, d.service.job_images(job.id))


JobResult = Callable[[Sender, OutboxMessage, Project, Job, list[Image]], dict[str, Any]]


def _cut(job: Job) -> list[dict[str, Any]]:
    """What the text encoder cut from long prompts, under the sheet."""
    return [blocks.context(f":warning: {w}") for w in (job.result or {}).get("warnings", [])]


def _sheet(
    d: Sender,
    message: OutboxMessage,
    project: Project,
    job: Job,
    *,
    filename: str,
    title: str,
    text: str,
    body: Callable[[str], list[dict[str, Any]]],
    kind: str,
) -> dict[str, Any]:
    """A job's contact sheet, uploaded once, in a message built around its file id."""
    file_id = d.upload(message, (job.result or {})["sheet_hash"], filename, title)
    return post_in_thread(d, message, project, text, body(file_id), kind=kind, job_id=job.id)


def _sprint(
    d: Sender, message: OutboxMessage, project: Project, job: Job, images: list[Image]
) -> dict[str, Any]:
    return _sheet(
        d,
        message,
        project,
        job,
        filename=f"moodboard-p{project.id}.png",
        title="Moodboard",
        text=f"Moodboard: {len(images)} variations",
        body=lambda file_id: messages.moodboard(project, images, file_id) + _cut(job),
        kind="moodboard",
    )


def _hero(
    d: Sender, message: OutboxMessage, project: Project, job: Job, _images: list[Image]
) -> dict[str, Any]:
    recipe = next(r for r in d.service.recipes(project.id) if r.id == job.params["recipe_id"])
    hero = d.service.image_by_id((job.result or {})["hero_image_id"])
    assert hero is not None
    file_id = d.upload(message, hero.file_hash, f"hero-{hero.number}.png", f"Hero #{hero.number}")
    return post_in_thread(
        d,
        message,
        project,
        f"Hero #{hero.number}",
        messages.hero(project, recipe, hero, file_id),
        kind="hero",
        job_id=job.id,
        image_id=hero.id,
        recipe_id=recipe.id,
    )


def _volume(
    d: Sender, message: OutboxMessage, project: Project, job: Job, images: list[Image]
) -> dict[str, Any]:
    return _sheet(
        d,
        message,
        project,
        job,
        filename=f"batch-job{job.id}.png",
        title="Volume batch",
        text=f"Volume batch: {len(images)} images",
        body=lambda file_id: messages.batch(project, images, file_id, "Volume batch") + _cut(job),
        kind="batch",
    )


def _upscale(
    d: Sender, message: OutboxMessage, project: Project, job: Job, images: list[Image]
) -> dict[str, Any]:
    made = "; ".join(
        messages.made_from(
            image, d.service.image_by_id(image.parent_id) if image.parent_id else None
        )
        for image in images
    )
    return _sheet(
        d,
        message,
        project,
        job,
        filename=f"upscaled-job{job.id}.png",
        title="Upscaled keepers",
        text="Upscaled keepers: " + ", ".join(f"#{image.number}" for image in images),
        body=lambda file_id: (
            messages.sheet_only("Upscaled keepers", images, file_id, made)
            + [blocks.context("Send one to the gate with `review N`.")]
        ),
        kind="sheet",
    )


def _fix(
    d: Sender, message: OutboxMessage, project: Project, job: Job, images: list[Image]
) -> dict[str, Any]:
    return post_version(
        d,
        message,
        project,
        images[0],
        f"Repaired #{images[0].number}",
        job_id=job.id,
        cells=job.params.get("cells"),
    )


def _vary(
    d: Sender, message: OutboxMessage, project: Project, job: Job, images: list[Image]
) -> dict[str, Any]:
    """Variations land where their image came from: a sprint's moodboard, or a volume batch."""
    if images and images[0].play == "sprint":
        return _sprint(d, message, project, job, images)
    return _volume(d, message, project, job, images)


JOB_RESULTS: dict[str, JobResult] = {
    "sprint": _sprint,
    "hero": _hero,
    "volume": _volume,
    "upscale": _upscale,
    "fix": _fix,
    "vary": _vary,
}

RENDERERS: dict[str, Renderer] = {
    "root": root,
    "digest": digest,
    "notice": notice,
    "progress": progress,
    "job_result": job_result,
    "gate": gate,
    "pins": pins,
    "held": held,
    "released": released,
    "repair": repair,
    "compare": compare,
    "ship_pack": ship_pack,
}
