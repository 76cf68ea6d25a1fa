"""Verbs that answer a question and change nothing: status, info, the recipe card, metrics, queue, settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from bot.playbook import checklist as gate_checklist
from bot.playbook.errors import NotAuthorized
from bot.playbook.metrics import NO_INPUTS, all_metrics
from bot.slack import blocks
from bot.slack.grammar import Command
from bot.slack.info import info_blocks
from bot.slack.library import library_blocks
from handlers.context import Call, Reply, in_project

T = TypeVar("T")

PROJECT_PREFIX = "In the channel, start a command with `p3` to act on project 3 (`p3 status`)."


def as_director_or_admin(call: Call, change: Callable[[bool], T]) -> T:
    """As the channel's Director; a refusal is asked again of Slack: is this an admin or owner?"""
    try:
        return change(False)
    except NotAuthorized:
        if not call.atelier.is_admin(call.user):
            raise
        return change(True)


def update_channel(call: Call, changes: dict[str, Any]) -> None:
    as_director_or_admin(
        call,
        lambda admin: call.service.update_settings(call.channel, call.user, admin=admin, **changes),
    )


def projects_keeping_roles(call: Call) -> str:
    """Open projects keep the roles they started with; say which, and how to change one."""
    kept = call.service.projects_keeping_roles(call.channel)
    if not kept:
        return ""
    current = call.service.settings(call.channel)
    m = blocks.mention
    lines = [
        f"• Project {p.id}: Director {m(p.director)}, Operator {m(p.operator)}, Reviewer {m(p.reviewer)}"
        for p in kept[:5]
    ]
    more = [f"• …and {len(kept) - 5} more"] if len(kept) > 5 else []
    command = (
        f"/atelier p{kept[0].id} roles director {m(current.director)} "
        f"operator {m(current.operator)} reviewer {m(current.reviewer)}"
    )
    return (
        "\nOpen projects keep their own roles:\n"
        + "\n".join(lines + more)
        + f"\nTo give one the new roles (its Director may), e.g. `{command}`."
    )


def blocklist(call: Call) -> Reply:
    """List the channel's blocked words, or add or lift one (as the channel's Director, or an admin)."""
    asked = call.args["blocklist"]
    if asked is None:
        phrases = call.service.settings(call.channel).blocklist or []
    else:
        verb, phrase = asked
        phrases = as_director_or_admin(
            call,
            lambda admin: call.service.change_blocklist(
                call.channel, call.user, admin=admin, **{verb: phrase}
            ),
        )
    listed = ", ".join(f"“{blocks.escape(p)}”" for p in phrases)
    return Reply(
        f"Blocked words in this channel: {listed}. Prompt text holding one is refused."
        if phrases
        else "This channel blocks no words. `settings blocklist add <word or phrase>` adds one."
    )


def checklist(call: Call) -> Reply:
    """The gate's checklist here, or add or remove one of the channel's own items."""
    asked = call.args["checklist"]
    if asked is not None:
        add = (asked[1], asked[2]) if asked[0] == "add" else None
        remove = asked[1] if asked[0] == "remove" else ""
        as_director_or_admin(
            call,
            lambda admin: call.service.change_checklist(
                call.channel, call.user, add=add, remove=remove, admin=admin
            ),
        )
    items = gate_checklist.items(call.service.settings(call.channel).checklist or [])
    lines = [
        f"• `{item.short}` — {blocks.escape(item.text)}"
        + ("" if item.playbook else " _(this channel's)_")
        for item in items
    ]
    return Reply(
        ("Checklist saved. " if asked else "")
        + "The gate's checklist in this channel:\n"
        + "\n".join(lines)
        + '\nAdd your own: `settings checklist add brand "On brand: palette, type, logo use"`; '
        "`settings checklist remove brand` removes it (the playbook's five stay)."
    )


def settings(call: Call) -> Reply:
    if "blocklist" in call.args:
        return blocklist(call)
    if "checklist" in call.args:
        return checklist(call)
    changes = call.args["changes"]
    if changes:
        update_channel(call, changes)
    current = call.service.settings(call.channel)
    m = blocks.mention
    return Reply(
        f"Channel settings{' saved' if changes else ''}: Director {m(current.director)}, Operator {m(current.operator)}, "
        f"Reviewer {m(current.reviewer)}, iteration budget {current.iteration_budget}, review cool-off {current.review_cooloff_minutes} min, "
        f"model `{blocks.escape(current.model)}`, queue limit {current.queue_limit_per_user} images per person, "
        + (
            f"GPU time capped at {current.gpu_minutes_weekly} minutes a week."
            if current.gpu_minutes_weekly
            else "no cap on GPU time (`settings gpu-minutes N` sets one)."
        )
    )


def recipes(call: Call) -> Reply:
    text, shown = library_blocks(call.atelier, call.service.recipe_library(call.channel, call.user))
    return Reply(text, shown or None)


def info(call: Call) -> Reply:
    text, shown = info_blocks(call.service.image_info(call.project_id, call.args["number"]))
    return Reply(text, shown)


def status(call: Call) -> Reply | None:
    """In a thread (or with `p3`), that project; in the channel, every project there."""
    if call.args["project"] is None and call.command.project is None and call.thread_ts is None:
        return channel_status(call)
    named = call.args["project"] or call.command.project
    return in_project(
        Call(**{**call.__dict__, "command": Command("status", call.args, named)}), one_status
    )


def one_status(call: Call) -> Reply:
    standing = call.service.standing(call.project_id)
    project = standing.project
    jobs = [
        pair for pair in call.service.jobs(project.channel_id) if pair[0].project_id == project.id
    ]
    return Reply(
        f"Project {project.id}",
        blocks.status_blocks(project, standing.plays, standing.step, jobs),
    )


def channel_status(call: Call) -> Reply:
    projects = call.service.projects(call.channel)
    if not projects:
        return Reply(
            "There is no project here yet. Start one with `/atelier new <the intent in one sentence>`."
        )
    lines = [
        blocks.project_line(standing.project, standing.step)
        for standing in map(call.service.standing, (project.id for project in projects))
    ]
    return Reply(
        f"{len(projects)} project(s) in this channel",
        [blocks.section("\n".join(lines)), blocks.context(PROJECT_PREFIX)],
    )


def recipe(call: Call) -> Reply:
    recipe = call.service.recipe(call.project_id)
    if recipe is None:
        return Reply("No recipe is locked yet. The Operator locks one with `lock N`.")
    return Reply(f"Recipe card v{recipe.version}", blocks.recipe_card(recipe))


def metrics(call: Call) -> Reply:
    scope, days = call.args["scope"], call.args["days"]
    project = call.service.project(call.project_id)
    now = call.service.clock()
    window = timedelta(days=days)
    scopes: dict[str, dict[str, Any]] = {
        "project": {"project_id": project.id},
        "channel": {"channel_id": project.channel_id},
        "team": {},
    }
    where = scopes[scope]
    current = call.service.metrics(since=now - window, until=now, **where)
    previous = call.service.metrics(since=now - 2 * window, until=now - window, **where)
    gpu = (
        call.service.gpu_time(since=now - window, until=now, **where),
        call.service.gpu_time(since=now - 2 * window, until=now - window, **where),
    )
    title = {"project": f"Project {project.id}", "channel": "This channel", "team": "The team"}
    shown = blocks.metrics_blocks(title[scope], current, previous, days, gpu)
    if scope == "project":
        shown.append(blocks.keepers_block(*call.service.keepers(project.id)))
    return Reply(f"{title[scope]} metrics", shown)


def metric_meanings() -> str:
    """What each number means, said once here rather than in every digest."""
    return "What the numbers mean:\n" + "\n".join(
        f"• *{metric.name}*: {metric.meaning}." for metric in all_metrics(NO_INPUTS)
    )


def queue(call: Call) -> Reply:
    """Every job waiting and running, in every channel, with its place and time; then this
    channel's messages Slack refused for good (with the reason)."""
    lines = [
        f"<#{job.channel_id}> job {job.id} (project {job.project_id}): "
        + blocks.progress_text(job, ahead)
        for job, ahead in call.service.jobs()
    ]
    retrying = call.atelier.index.retrying(call.channel)
    if retrying:
        lines.append(
            f":hourglass: {len(retrying)} message(s) failed to post and will be tried again: "
            + "; ".join(retrying)
        )
    refused = call.atelier.index.undeliverable(call.channel)
    if refused:
        lines.append(
            f":warning: {len(refused)} message(s) could not be posted, and later ones went on: "
            + "; ".join(f"{kind} ({blocks.escape(reason)})" for kind, reason in refused)
            + ". Check that Atelier is in the channel and the channel is not archived."
        )
    return Reply("\n".join(lines) or "The queue is empty.")
