"""Block Kit's building blocks, and the messages every play shares: the root, progress, status.

Each play's own interactive message is in bot.slack.messages; the modals in bot.slack.modals.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.playbook.metrics import Metric
from bot.playbook.next_step import Step
from bot.playbook.roles import Role
from bot.playbook.sequence import PLAYS
from storage.gpu_time import GpuTime
from storage.pngs import a1111_sampler
from storage.queue_forecast import Forecast

if TYPE_CHECKING:
    from storage.models import Job, PlayRun, Project, Recipe
    from storage.queries import PromptKeepers

Block = dict[str, Any]
MAX_OPTIONS = 10
STATUS_ICON = {
    "pending": ":white_large_square:",
    "active": ":arrows_counterclockwise:",
    "done": ":white_check_mark:",
    "skipped": ":fast_forward:",
}
JOB_LABEL = {
    "sprint": "Concept sprint",
    "hero": "Hero + reproducibility check",
    "volume": "Volume run",
    "fix": "Repair",
    "upscale": "Upscale",
    "vary": "Variations",
}
GRID_CELLS = [f"{column}{row}" for row in "123" for column in "abc"]


def text_object(text: str, kind: str = "mrkdwn") -> dict[str, Any]:
    return {"type": kind, "text": text[:3000]}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150], "emoji": True}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": text_object(text), **extra}


def context(text: str) -> Block:
    return {"type": "context", "elements": [text_object(text)]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def image_block(file_id: str, alt: str, title: str | None = None) -> Block:
    block: Block = {"type": "image", "slack_file": {"id": file_id}, "alt_text": alt[:2000]}
    if title:
        block["title"] = plain(title)
    return block


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def escape(text: str | None) -> str:
    """User text as mrkdwn shows it literally: no `<!channel>`, no disguised links, no mentions.

    Slack's rule: escape `&`, `<` and `>`; everything else is shown as typed.
    """
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user: str | None) -> str:
    return f"<@{user}>" if user else "nobody"


# ---- project root and status --------------------------------------------------------------


def tracker_lines(plays: Sequence[PlayRun]) -> list[str]:
    lines = []
    for info, run in zip(PLAYS, plays, strict=True):
        line = f"{STATUS_ICON[run.status]} *{info.title}* — {run.status}"
        if run.status == "skipped" and run.skip_reason:
            line += f" (skipped by {mention(run.actor)}: _{escape(run.skip_reason)}_)"
        lines.append(line)
    return lines


def next_step_text(project: Project, step: Step) -> str:
    """`Next: the Director (@dana): approve the hero …`, naming who takes it."""
    holders = {
        Role.DIRECTOR: project.director,
        Role.OPERATOR: project.operator,
        Role.REVIEWER: project.reviewer,
    }
    who = (
        f"the {step.role.value.title()} ({mention(holders[step.role])})"
        if step.role is not None
        else "the Director, Operator or Reviewer"
    )
    return f"*Next:* {who}: {escape(step.text)}."


def play_order(project: Project, plays: Sequence[PlayRun], step: Step) -> str:
    """`Project 3 — 1. Concept sprint ✅ → 2. Lock-in pass 🔄 → …`, then who acts next."""
    order = " → ".join(
        f"{n}. {info.title} {STATUS_ICON[run.status]}"
        for n, (info, run) in enumerate(zip(PLAYS, plays, strict=True), start=1)
    )
    return f"*Project {project.id}* — {order}\n{next_step_text(project, step)}"


def project_line(project: Project, step: Step) -> str:
    """One project in the channel's `status`: its prefix, intent, state and next step."""
    state = f"paused ({escape(project.pause_detail)})" if project.state == "paused" else "active"
    return f"• `p{project.id}` {escape(project.intent)} — {state}. {next_step_text(project, step)}"


def project_root(
    project: Project, plays: Sequence[PlayRun], step: Step, cleared: int = 0
) -> tuple[str, list[Block]]:
    """The project's root message: intent, roles, the play tracker, and the ship pack once ready."""
    blocks: list[Block] = [
        section(f":art: *Project {project.id}* — {escape(project.intent)}"),
        context(
            f"Director {mention(project.director)} · Operator {mention(project.operator)} · Reviewer {mention(project.reviewer)} · model `{project.model}`"
        ),
    ]
    if project.state == "paused":
        blocks.append(section(f":double_vertical_bar: *Paused:* {escape(project.pause_detail)}"))
    blocks.append(section("\n".join(tracker_lines(plays))))
    blocks.append(section(next_step_text(project, step)))
    if cleared:
        label = f"Ship pack ({cleared} final{'s' if cleared != 1 else ''})"
        blocks.append(
            {"type": "actions", "elements": [button(label, "ship_pack", str(project.id))]}
        )
    blocks.append(context("Reply in this thread to run a play; `help` lists every command."))
    return f"Project {project.id}: {escape(project.intent)}", blocks


def job_label(job: Job) -> str:
    """What the job is, of which images, and who asked: "Repair of #18 by @Omar"."""
    params = job.params or {}
    sources = params.get("numbers") or ([params["number"]] if params.get("number") else [])
    of = f" of {', '.join(f'#{n}' for n in sources)}" if sources else ""
    return f"{JOB_LABEL.get(job.kind, job.kind)}{of} by {mention(job.created_by)}"


def progress_text(job: Job, ahead: Forecast | None = None) -> str:
    """A job's progress, and where it stands: its place in line and when it should be done."""
    label = job_label(job)
    if job.status in ("queued", "running"):
        where = _where(job, ahead)
        if job.status == "queued" and job.progress_done == 0:
            return f":hourglass_flowing_sand: {label}: queued{where} (job {job.id}, {job.progress_total} images)"
        return f":hourglass_flowing_sand: {label}: {job.progress_done}/{job.progress_total}{where}"
    if job.status == "done":
        return f":white_check_mark: {label}: {job.progress_total}/{job.progress_total} done"
    if job.status == "cancelled":
        return f":no_entry_sign: {label}: cancelled at {job.progress_done}/{job.progress_total}"
    return f":warning: {label}: failed — {job.error}"


def progress_shown(job: Job, ahead: Forecast | None) -> int:
    """What a progress message shows, as one number: it is edited when this changes (images
    done, or the place in line), not for every second its time estimate moves."""
    return job.progress_done * 1000 + min(999, ahead.position if ahead else 0)


def _where(job: Job, ahead: Forecast | None) -> str:
    if ahead is None:
        return ""
    place = f", {_ordinal(ahead.position)} in line" if ahead.position else ""
    if ahead.done_in is None:
        return place + (", no time estimate yet" if ahead.position else "")
    return f"{place}, done in {_duration(ahead.done_in)}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    return f"about {minutes} min" if minutes < 60 else f"about {minutes // 60} h {minutes % 60} min"


# ---- play 1: moodboard and ranking -----------------------------------------------------------


def marked_template(template: str) -> str:
    """The template as mrkdwn with its slot in bold, so the part that varies stands out."""
    return re.sub(r"\{(\w+)\}", r"*{\1}*", escape(template))


def recipe_fields(recipe: Recipe) -> list[dict[str, Any]]:
    return [
        text_object(f"*Model*\n`{recipe.model_id}` `{(recipe.model_hash or 'pending')[:12]}`"),
        text_object(f"*Sampler*\n{a1111_sampler(recipe.scheduler)}"),
        text_object(f"*Steps · guidance*\n{recipe.steps} · {recipe.guidance:g}"),
        text_object(f"*Size · seed*\n{recipe.width}×{recipe.height} · {recipe.seed}"),
        text_object(f"*Template* (the slot in bold)\n{marked_template(recipe.prompt_template)}"),
        text_object(f"*Slot*\n`{{{recipe.slot_name}}}` = {escape(recipe.slot_value)}"),
        text_object(f"*Negative*\n{escape(recipe.negative_prompt) or '—'}"),
        *(
            [
                text_object(
                    "*LoRAs*\n"
                    + ", ".join(
                        f"`{escape(lora['name'])}` {lora['weight']:g}" for lora in recipe.loras
                    )
                )
            ]
            if recipe.loras
            else []
        ),
    ]


def reproducibility_line(recipe: Recipe) -> str:
    if recipe.reproducible is None:
        return ":hourglass_flowing_sand: Reproducibility check running"
    verdict = (
        ":white_check_mark: Reproduces from the card alone"
        if recipe.reproducible
        else ":x: Does *not* reproduce from the card — the recipe isn't real yet"
    )
    return f"{verdict} (mean diff {recipe.repro_mean_diff:.3f}, max {recipe.repro_max_diff:.0f} of 255; tolerance {recipe.tolerance:g}/{recipe.max_tolerance:g})"


def recipe_card(recipe: Recipe) -> list[Block]:
    return [
        section(
            f":scroll: *Recipe card v{recipe.version}* — locked by {mention(recipe.locked_by)}"
        ),
        {"type": "section", "fields": recipe_fields(recipe)},
        context(reproducibility_line(recipe)),
    ]


def metrics_blocks(
    title: str,
    current: Sequence[Metric],
    previous: Sequence[Metric],
    days: int,
    gpu: tuple[GpuTime, GpuTime] | None = None,
) -> list[Block]:
    """The metrics against the window before; with `gpu` (now, before), the GPU time too."""
    lines = []
    for now, before in zip(current, previous, strict=True):
        trend = ""
        if now.value is not None and before.value is not None:
            delta = now.value - before.value
            arrow = (
                ":arrow_up:" if delta > 0 else ":arrow_down:" if delta < 0 else ":left_right_arrow:"
            )
            good = (delta > 0) == (now.better == "up") if delta else None
            trend = f" {arrow} from {before.formatted()}" + (
                "" if good is None else " (good)" if good else " (watch)"
            )
        lines.append(f"*{now.name}:* {now.formatted()}{trend} — {now.basis()}")
    if gpu is not None:
        lines.append(gpu_line(*gpu))
    return [
        section(f":bar_chart: *{title}* — last {days} days vs the {days} before"),
        section("\n".join(lines)),
        context("What each number means: `help metrics`."),
    ]


def gpu_line(now: GpuTime, before: GpuTime, people: int = 5) -> str:
    """GPU minutes against the window before, and the people whose work used them, most first."""
    ranked = sorted(now.by_person.items(), key=lambda item: -item[1])
    shown = [f"{mention(person)} {seconds / 60:.1f}" for person, seconds in ranked[:people]]
    if len(ranked) > people:
        shown.append(f"{len(ranked) - people} more")
    return f"*GPU time:* {now.minutes:.1f} min (the {before.minutes:.1f} before)" + (
        f" — {', '.join(shown)}" if shown else ""
    )


def keepers_block(styles: Sequence[PromptKeepers], slots: Sequence[PromptKeepers]) -> Block:
    """Which prompts produced keepers: the playbook's habit, best first, with the counts."""

    def lines(what: str, rows: Sequence[PromptKeepers], verb: str) -> list[str]:
        shown = [
            f"• {escape(row.prompt) or '(none)'}: {row.kept} of {row.generated} {verb} "
            f"({row.kept / row.generated:.0%})"
            for row in rows[:10]
            if row.generated
        ]
        more = [f"…and {len(rows) - 10} more in `atelier export`"] if len(rows) > 10 else []
        return [f"*{what}*", *(shown or ["nothing yet"]), *more]

    text = "\n".join(
        [
            ":dart: *Which prompts produce keepers* (this project, all time)",
            *lines("Sprint styles", styles, "ranked"),
            *lines("Volume slot values", slots, "kept"),
        ]
    )
    return section(text[:2900])


def status_blocks(
    project: Project,
    plays: Sequence[PlayRun],
    step: Step,
    jobs: Sequence[tuple[Job, Forecast]],
) -> list[Block]:
    _, blocks = project_root(project, plays, step)
    if jobs:
        blocks.append(
            section("*Queue*\n" + "\n".join(progress_text(job, ahead) for job, ahead in jobs))
        )
    return blocks
