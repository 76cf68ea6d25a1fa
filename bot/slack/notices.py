"""The words for each notice a use case records; the playbook records events, Slack gets text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.playbook.gate import SHORT, GateItem
from bot.playbook.sequence import Play, info
from bot.slack.blocks import escape, mention


def _numbers(numbers: list[int]) -> str:
    return ", ".join(f"#{n}" for n in numbers)


def _marked(p: dict[str, Any]) -> str:
    if p.get("batch"):
        return f":scissors: Kept {_numbers(p['keep']) or 'none'}; culled {len(p['cull'])}."
    if p["keep"]:
        return f"Kept {_numbers(p['keep'])}."
    return f"Culled {_numbers(p['cull'])}."


def _cancelled(p: dict[str, Any]) -> str:
    jobs = p["jobs"]
    if not jobs:
        return "Nothing was queued to cancel."
    return f"Cancelled {len(jobs)} job(s): " + ", ".join(str(job) for job in jobs)


NOTICES: dict[str, Callable[[dict[str, Any]], str]] = {
    "text": lambda p: escape(str(p["text"])),
    "warning": lambda p: f":warning: {escape(p['text'])}",
    "forced_fix": lambda p: (
        f":warning: {mention(p['user'])} (Director) forced a repair of #{p['number']} over "
        f"{p['coverage']:.0%} of the image, against the regenerate rule; the audit log records it."
    ),
    "regenerate": lambda p: (
        f":recycle: Regenerating #{p['number']}: a new seed for its slot value, back to keep/cull."
    ),
    "roles": lambda p: (
        "Roles updated: " + ", ".join(f"{role} {mention(who)}" for role, who in p["roles"].items())
    ),
    "intent": lambda p: f":memo: Intent restated: {escape(p['intent'])}",
    "from_recipe": lambda p: (
        f":books: Started from recipe {p['name']}: the sprint is skipped, and its hero is being "
        "rendered again and checked on today's model. The Director approves it before any volume run."
    ),
    "reroll": lambda p: f":game_die: Re-rolling #{p['number']} with {p['count']} new seed(s).",
    "vary": lambda p: f":art: Varying #{p['number']} ({p['how']}), {p['count']} variation(s).",
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
    "cull_hard": lambda p: (
        f":scissors: You kept {p['kept']} of {p['total']} in this batch. The playbook: "
        "“Generate in batches, then cull aggressively—expect to keep 1 in 4 or fewer.”"
    ),
    "handoff": lambda p: (
        f":handshake: #{p['number']} is with {mention(p['editor'])}. "
        "Their next image upload in this thread becomes its next version."
    ),
    "budget": lambda p: f"#{p['number']}'s iteration budget is now {p['budget']}.",
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
