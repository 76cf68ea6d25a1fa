"""The words for each notice a use case records; the playbook records events, Slack gets text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.playbook.gate import SHORT, GateItem
from bot.playbook.sequence import Play, info
from bot.slack.blocks import escape, marked_template, mention


def _numbers(numbers: list[int]) -> str:
    return ", ".join(f"#{n}" for n in numbers)


def _by(p: dict[str, Any]) -> str:
    """ " by @who" when the notice knows who acted."""
    return f" by {mention(p['user'])}" if p.get("user") else ""


def _marked(p: dict[str, Any]) -> str:
    if p.get("batch"):
        return f":scissors: Kept {_numbers(p['keep']) or 'none'}; culled {len(p['cull'])}{_by(p)}."
    if p["keep"]:
        return f"Kept {_numbers(p['keep'])}{_by(p)}."
    return f"Culled {_numbers(p['cull'])}{_by(p)}."


def _locked(p: dict[str, Any]) -> str:
    source = f" from #{p['number']}" if p.get("number") else ""
    text = (
        f":lock: {mention(p['user'])} locked recipe v{p['version']}{source}: "
        f"{marked_template(p['template'])}, the slot “{escape(p['value'])}”. "
        "Rendering the hero and checking it reproduces from the card…"
    )
    if p.get("whole_subject") and p.get("number"):
        text += (
            f"\n:bulb: The whole subject is the slot, so a volume value replaces all of it. To vary "
            f"only part of it, lock again naming those words: `lock {p['number']} slot &lt;words&gt;`."
        )
    return text


def _volume(p: dict[str, Any]) -> str:
    prompts = "; ".join(f"“{escape(prompt)}”" for prompt in p["prompts"])
    return (
        f":film_frames: {mention(p['user'])} started a volume run. Rendering {p['count']}: "
        f"{prompts}{'; …' if p['more'] else ''}"
    )


def _cancelled(p: dict[str, Any]) -> str:
    who = f"{mention(p['user'])} cancelled" if p.get("user") else "Cancelled"
    return f"{who} {len(p['jobs'])} job(s): " + ", ".join(str(job) for job in p["jobs"])


# How a message that could not be posted is named in the thread.
MESSAGE_KINDS = {
    "ship_pack": "the ship pack",
    "compare": "a comparison",
    "job_result": "a batch's images",
    "gate": "a gate message",
    "repair": "a repaired version",
    "progress": "a progress update",
}


def _undelivered(p: dict[str, Any]) -> str:
    return (
        f":warning: Atelier gave up posting {MESSAGE_KINDS.get(p['kind'], 'a message')} here: "
        f"{escape(p['reason'])}. Later messages go on; `/atelier queue` lists what failed. "
        "Ask whoever runs Atelier to look into it, then ask again."
    )


NOTICES: dict[str, Callable[[dict[str, Any]], str]] = {
    "undelivered": _undelivered,
    "text": lambda p: escape(str(p["text"])),
    "warning": lambda p: f":warning: {escape(p['text'])}",
    "forced_fix": lambda p: (
        f":warning: {mention(p['user'])} (Director) forced a repair of #{p['number']} over "
        f"{p['coverage']:.0%} of the image, against the regenerate rule; the audit log records it."
    ),
    "regenerate": lambda p: (
        f":recycle: Regenerating #{p['number']}{_by(p)}: a new seed for its slot value, back to "
        "keep/cull."
    ),
    "roles": lambda p: (
        f"Roles updated{_by(p)}: "
        + ", ".join(f"{role} {mention(who)}" for role, who in p["roles"].items())
    ),
    "intent": lambda p: f":memo: Intent restated: {escape(p['intent'])}",
    "from_recipe": lambda p: (
        f":books: Started from recipe {p['name']}: the sprint is skipped, and its hero is being "
        "rendered again and checked on today's model. The Director approves it before any volume run."
    ),
    "reroll": lambda p: (
        f":game_die: Re-rolling #{p['number']} with {p['count']} new seed(s){_by(p)}."
    ),
    "vary": lambda p: (
        f":art: Varying #{p['number']} ({p['how']}), {p['count']} variation(s){_by(p)}."
    ),
    "skipped": lambda p: (
        f":fast_forward: {mention(p['user'])} skipped the {info(Play(p['play'])).title}: _{escape(p['reason'])}_"
    ),
    "reopened": lambda p: (
        f":leftwards_arrow_with_hook: {mention(p['user'])} re-opened the {info(Play(p['play'])).title}: _{escape(p['reason'])}_"
    ),
    "ranked": lambda p: (
        f":trophy: {mention(p['user'])} ranked {_numbers(p['numbers'])}. "
        f"Approve to take #{p['numbers'][0]} as the direction."
    ),
    "direction": lambda p: (
        f":white_check_mark: {mention(p['user'])} approved the direction: #{p['number']}. "
        f"Operator: `lock {p['number']}` to make it a recipe."
    ),
    "hero": lambda p: (
        f":white_check_mark: {mention(p['user'])} approved the hero. "
        "The recipe is locked: `volume &lt;value&gt;; &lt;value&gt; x4`."
    ),
    "marked": _marked,
    "locked": _locked,
    "one_person": lambda p: (
        f":busts_in_silhouette: {mention(p['user'])} holds all three roles here: Director, Operator "
        f"and Reviewer. The playbook still separates the decisions in time: no one clears an image "
        f"at the gate within {p['cooloff']} min of their own last generation in this project."
    ),
    "volume": _volume,
    "cull_hard": lambda p: (
        f":scissors: {mention(p.get('user'))} kept {p['kept']} of {p['total']} in this batch. The playbook: "
        "“Generate in batches, then cull aggressively—expect to keep 1 in 4 or fewer.”"
    ),
    "handoff": lambda p: (
        f":handshake: #{p['number']} is with {mention(p['editor'])}{_by(p).replace(' by', ', handed over by')}. "
        "Their next image upload in this thread becomes its next version."
    ),
    "budget": lambda p: f"#{p['number']}'s iteration budget is now {p['budget']}{_by(p)}.",
    "cancelled": _cancelled,
    "cleared": lambda p: (
        f":rocket: {mention(p['user'])} cleared #{p['number']} to ship. Alt text: _{escape(p['alt'])}_"
    ),
    "sent_back": lambda p: (
        f":leftwards_arrow_with_hook: {mention(p['user'])} sent #{p['number']} back: "
        f"{SHORT[GateItem(p['item'])]}. {escape(p['note'])}".strip()
    ),
    "which_item": lambda p: (
        f"{mention(p['user'])}, which checklist item does #{p['number']} fail? "
        f"Reply `sendback {p['number']} &lt;item&gt; &lt;note&gt;` (people/logos/artists, license, content, alt text)."
    ),
    "gate_wait": lambda p: (
        f":bell: {mention(p['reviewer'])}, #{p['number']} has waited at the gate for {p['hours']:.0f} h."
    ),
    "paused_long": lambda p: (
        f":bell: {mention(p['director'])}, this project has been paused for {p['hours']:.0f} h: {escape(p['detail'])}."
    ),
}


def notice_text(payload: dict[str, Any]) -> str:
    """A notice's words; a payload from before notices were events is plain `text`."""
    return NOTICES[payload.get("event", "text")](payload)
