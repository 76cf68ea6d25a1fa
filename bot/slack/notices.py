"""The words for each notice a use case records; the playbook records events, Slack gets text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.playbook import checklist
from bot.playbook import notices as N
from bot.playbook.sequence import Play, info
from bot.slack.blocks import escape, marked_template, mention


def _numbers(numbers: list[int]) -> str:
    return ", ".join(f"#{n}" for n in numbers)


def _by(n: Any) -> str:
    """ " by @who" when the notice knows who acted."""
    return f" by {mention(n.user)}" if n.user else ""


def _marked(n: N.Marked) -> str:
    if n.batch:
        return f":scissors: Kept {_numbers(n.keep) or 'none'}; culled {len(n.cull)}{_by(n)}."
    if n.keep:
        return f"Kept {_numbers(n.keep)}{_by(n)}."
    return f"Culled {_numbers(n.cull)}{_by(n)}."


def _locked(n: N.Locked) -> str:
    source = f" from #{n.number}" if n.number else ""
    text = (
        f":lock: {mention(n.user)} locked recipe v{n.version}{source}: "
        f"{marked_template(n.template)}, the slot “{escape(n.value)}”. "
        "Rendering the hero and checking it reproduces from the card…"
    )
    if n.whole_subject and n.number:
        text += (
            f"\n:bulb: The whole subject is the slot, so a volume value replaces all of it. To vary "
            f"only part of it, lock again naming those words: `lock {n.number} slot &lt;words&gt;`."
        )
    return text


def _volume(n: N.Volume) -> str:
    prompts = "; ".join(f"“{escape(prompt)}”" for prompt in n.prompts)
    return (
        f":film_frames: {mention(n.user)} started a volume run. Rendering {n.count}: "
        f"{prompts}{'; …' if n.more else ''}"
    )


def _cancelled(n: N.Cancelled) -> str:
    who = f"{mention(n.user)} cancelled" if n.user else "Cancelled"
    return f"{who} {len(n.jobs)} job(s): " + ", ".join(str(job) for job in n.jobs)


# How a message that could not be posted is named in the thread.
MESSAGE_KINDS = {
    "ship_pack": "the ship pack",
    "compare": "a comparison",
    "job_result": "a batch's images",
    "gate": "a gate message",
    "pins": "a send-back's pinned regions",
    "held": "the images held for the Reviewer",
    "released": "a released image",
    "repair": "a repaired version",
    "progress": "a progress update",
}


def _undelivered(n: N.Undelivered) -> str:
    return (
        f":warning: Atelier gave up posting {MESSAGE_KINDS.get(n.kind, 'a message')} here: "
        f"{escape(n.reason)}. Later messages go on; `/atelier queue` lists what failed. "
        "Ask whoever runs Atelier to look into it, then ask again."
    )


def _forced_fix(n: N.ForcedFix) -> str:
    return (
        f":warning: {mention(n.user)} (Director) forced a repair of #{n.number} over "
        f"{n.coverage:.0%} of the image, against the regenerate rule; the audit log records it."
    )


def _regenerate(n: N.Regenerate) -> str:
    return (
        f":recycle: Regenerating #{n.number}{_by(n)}: a new seed for its slot value, back to "
        "keep/cull."
    )


def _roles(n: N.RolesChanged) -> str:
    changed = ", ".join(f"{role} {mention(who)}" for role, who in n.roles.items())
    return f"Roles updated{_by(n)}: {changed}"


def _from_recipe(n: N.FromRecipe) -> str:
    return (
        f":books: Started from recipe {n.name}: the sprint is skipped, and its hero is being "
        "rendered again and checked on today's model. The Director approves it before any volume run."
    )


def _skipped(n: N.Skipped) -> str:
    return (
        f":fast_forward: {mention(n.user)} skipped the {info(Play(n.play)).title}: "
        f"_{escape(n.reason)}_"
    )


def _reopened(n: N.Reopened) -> str:
    return (
        f":leftwards_arrow_with_hook: {mention(n.user)} re-opened the "
        f"{info(Play(n.play)).title}: _{escape(n.reason)}_"
    )


def _ranked(n: N.Ranked) -> str:
    return (
        f":trophy: {mention(n.user)} ranked {_numbers(n.numbers)}. "
        f"Approve to take #{n.numbers[0]} as the direction."
    )


def _direction(n: N.Direction) -> str:
    return (
        f":white_check_mark: {mention(n.user)} approved the direction: #{n.number}. "
        f"Operator: `lock {n.number}` to make it a recipe."
    )


def _hero(n: N.Hero) -> str:
    return (
        f":white_check_mark: {mention(n.user)} approved the hero. "
        "The recipe is locked: `volume &lt;value&gt;; &lt;value&gt; x4`."
    )


def _one_person(n: N.OnePerson) -> str:
    return (
        f":busts_in_silhouette: {mention(n.user)} holds all three roles here: Director, Operator "
        f"and Reviewer. The playbook still separates the decisions in time: no one clears an image "
        f"at the gate within {n.cooloff} min of their own last generation in this project."
    )


def _cull_hard(n: N.CullHard) -> str:
    return (
        f":scissors: {mention(n.user)} kept {n.kept} of {n.total} in this batch. The playbook: "
        "“Generate in batches, then cull aggressively—expect to keep 1 in 4 or fewer.”"
    )


def _handoff(n: N.Handoff) -> str:
    return (
        f":handshake: #{n.number} is with {mention(n.editor)}"
        f"{_by(n).replace(' by', ', handed over by')}. "
        "Their next image upload in this thread becomes its next version."
    )


def _sent_back(n: N.SentBack) -> str:
    where = f" (pinned {n.cells}: `fix {n.number}` repairs them)" if n.cells else ""
    return (
        f":leftwards_arrow_with_hook: {mention(n.user)} sent #{n.number} back: "
        f"{escape(checklist.short(n.item))}{where}. {escape(n.note)}".strip()
    )


def _which_item(n: N.WhichItem) -> str:
    names = n.names or "people/logos/artists, license, content, alt text"
    return (
        f"{mention(n.user)}, which checklist item does #{n.number} fail? "
        f"Reply `sendback {n.number} &lt;item&gt; [cells like b2] &lt;note&gt;` "
        f"({escape(names)})."
    )


def _gate_wait(n: N.GateWait) -> str:
    return f":bell: {mention(n.reviewer)}, #{n.number} has waited at the gate for {n.hours:.0f} h."


def _paused_long(n: N.PausedLong) -> str:
    return (
        f":bell: {mention(n.director)}, this project has been paused for {n.hours:.0f} h: "
        f"{escape(n.detail)}."
    )


def _text(n: N.Text) -> str:
    return escape(n.text)


def _warned(n: N.Warned) -> str:
    return f":warning: {escape(n.text)}"


def _intent(n: N.Intent) -> str:
    return f":memo: Intent restated: {escape(n.intent)}"


def _reroll(n: N.Reroll) -> str:
    return f":game_die: Re-rolling #{n.number} with {n.count} new seed(s){_by(n)}."


def _vary(n: N.Vary) -> str:
    return f":art: Varying #{n.number} ({n.how}), {n.count} variation(s){_by(n)}."


def _budget(n: N.Budget) -> str:
    return f"#{n.number}'s iteration budget is now {n.budget}{_by(n)}."


def _cleared(n: N.Cleared) -> str:
    return f":rocket: {mention(n.user)} cleared #{n.number} to ship. Alt text: _{escape(n.alt)}_"


# One renderer per notice type; each is typed on its notice, so mypy checks every field read.
NOTICES: dict[type[N.Notice], Callable[[Any], str]] = {
    N.Text: _text,
    N.Warned: _warned,
    N.Undelivered: _undelivered,
    N.ForcedFix: _forced_fix,
    N.Regenerate: _regenerate,
    N.RolesChanged: _roles,
    N.Intent: _intent,
    N.FromRecipe: _from_recipe,
    N.Reroll: _reroll,
    N.Vary: _vary,
    N.Skipped: _skipped,
    N.Reopened: _reopened,
    N.Ranked: _ranked,
    N.Direction: _direction,
    N.Hero: _hero,
    N.Marked: _marked,
    N.Locked: _locked,
    N.OnePerson: _one_person,
    N.Volume: _volume,
    N.CullHard: _cull_hard,
    N.Handoff: _handoff,
    N.Budget: _budget,
    N.Cancelled: _cancelled,
    N.Cleared: _cleared,
    N.SentBack: _sent_back,
    N.WhichItem: _which_item,
    N.GateWait: _gate_wait,
    N.PausedLong: _paused_long,
}


def notice_text(payload: dict[str, Any]) -> str:
    """A notice's words, from the payload its use case recorded."""
    notice = N.from_payload(payload)
    return NOTICES[type(notice)](notice)
