"""Every thread verb and `/atelier` sub-command, one registry entry each.

An entry holds the verb's usage line, its parser, its handler, who may run it and the group
`help` lists it in. `help`, `usage`, the thread-reply filter and the README's command list are
all built from VERBS (`make docs`; a test keeps the README and manifest.yml in step). To add a
verb, and one that stores something, follow docs/ARCHITECTURE.md's "Adding a thread verb".
"""

from __future__ import annotations

from bot.playbook.errors import NotFound, PlaybookError
from bot.playbook.service import Outcome
from bot.slack import blocks, grammar, modals
from bot.slack.grammar import Command
from bot.slack.parsing import common
from bot.slack.parsing import fix as fixes
from bot.slack.parsing import gate as gates
from bot.slack.parsing import lock as locks
from bot.slack.parsing import project as projects
from bot.slack.parsing import sprint as sprints
from bot.slack.parsing import volume as volumes
from handlers import answers, plays
from handlers.context import Call, Reply, in_project
from handlers.registry import (
    ANY_TIME,
    FIX,
    GATE,
    GROUPS,
    LOCK_IN,
    SPRINT,
    START,
    VOLUME,
    Verb,
    said,
    warn,
)
from handlers.tools import TOOLS

# ---- verbs outside any one project ------------------------------------------------------


def _help(call: Call) -> Reply:
    """The verb list (or one verb's usage), and where this thread's project stands."""
    topic = call.args.get("topic")
    if topic is not None and topic not in VERBS:
        meant = grammar.closest(topic, VERBS)
        if meant is not None:
            return Reply(f"Did you mean `{meant}`? {usage(meant)}")
    if topic == "metrics":
        return Reply(f"{usage(topic)}\n{answers.metric_meanings()}")
    if topic is not None:
        return Reply(usage(topic))
    text = f"{usage()}\n{answers.PROJECT_PREFIX}"
    project = call.atelier.project_for(call.channel, call.thread_ts, call.command.project)
    if project is not None:
        standing = call.service.standing(project.id)
        text += "\n\n" + blocks.play_order(standing.project, standing.plays, standing.step)
    return Reply(text)


def _new(call: Call) -> Reply:
    if call.thread_ts is not None:
        return Reply(
            "Start a new project from the channel with `/atelier new <intent>`; this thread already has one."
        )
    if "recipe" in call.args:
        project_id, version = call.args["recipe"]
        outcome = call.service.start_from_recipe(
            call.channel, call.user, call.args["intent"], project_id, version
        )
    else:
        outcome = call.service.start_project(call.channel, call.user, call.args["intent"])
    return Reply(started(outcome))


def started(outcome: Outcome) -> str:
    """What the person who started a project is told (by `new` or the New project shortcut)."""
    note = " ".join(outcome.warnings)
    return f"Project {outcome.project.id} started; its thread is where the plays happen. {note}".strip()


def _roles(call: Call) -> Reply | None:
    """In the channel, the defaults for new projects; in a thread (or with `pN`), that project's."""
    if call.thread_ts is None and call.command.project is None:
        answers.update_channel(call, call.args)
        return Reply(
            "Channel default roles saved; new projects start with them."
            + answers.projects_keeping_roles(call)
        )
    return in_project(call, said(lambda c: c.service.set_roles(c.project_id, c.user, **c.args)))


def _rank(call: Call) -> Reply | None:
    if call.args["numbers"]:
        call.service.rank(call.project_id, call.user, call.args["numbers"])
        return None
    if call.trigger_id is None:
        return Reply(usage("rank"))
    project = call.service.project(call.project_id)
    images = [image for image in call.service.images(project.id) if image.play == "sprint"]
    return Reply("Opening the ranking…", modal=modals.rank_modal(project, images))


VERBS: dict[str, Verb] = {
    "new": Verb(
        "`new <the intent in one sentence> [from recipe P3v2]` — start a project in a new thread",
        projects.new,
        _new,
        needs_project=False,
        free=("intent",),
        hint="new <intent>",
        group=START,
    ),
    "roles": Verb(
        "`roles director @who operator @who reviewer @who` — set who wears which hat",
        projects.roles,
        _roles,
        needs_project=False,
        group=START,
    ),
    "intent": Verb(
        "`intent <one sentence>` — restate the intent",
        common.text_as("intent"),
        said(lambda c: c.service.set_intent(c.project_id, c.user, c.args["intent"])),
        "set_intent",
        free=("intent",),
        group=START,
    ),
    "sprint": Verb(
        "`sprint watercolor | flat vector | film photo — a courier at dawn [--ar 16:9 | size 640x384] [x20]` — 3–5 styles, 15–30 variations",
        sprints.sprint,
        lambda c: warn(
            c.service.run_sprint(
                c.project_id,
                c.user,
                c.args["subject"],
                c.args["styles"],
                c.args["count"],
                c.args["ar"],
                c.args["size"],
            ).warnings
        ),
        "run_sprint",
        hint="sprint <3–5 styles> — <subject>",
        group=SPRINT,
    ),
    "rank": Verb(
        "`rank 7 2 11` — order 3–5 moodboard candidates, best first",
        sprints.rank,
        _rank,
        "rank",
        group=SPRINT,
    ),
    "approve": Verb(
        "`approve` — approve the ranked direction, or the hero",
        sprints.approve,
        said(lambda c: c.service.approve(c.project_id, c.user, c.args.get("what"))),
        "approve_direction",
        group=SPRINT,
    ),
    "lock": Verb(
        "`lock 7 [slot red bike] [template a {subject} at dawn] [negative blurry, text] [seed N] [steps N] [cfg 7] [--ar 4:5 | size 640x384] [lora brand-style:0.8]` — recipe card + hero; `slot` names the words of #7's prompt that vary",
        locks.lock,
        plays.lock,
        "lock_recipe",
        group=LOCK_IN,
    ),
    "volume": Verb(
        "`volume blue bike; green bike x4` — slot values only, `;` between them, how many last; the rest comes from the locked recipe",
        volumes.volume,
        lambda c: warn(
            c.service.run_volume(
                c.project_id, c.user, c.args["values"], c.args["per_value"], c.args["overrides"]
            ).warnings
        ),
        "run_volume",
        group=VOLUME,
    ),
    "keep": Verb(
        "`keep 17 18` — keep images from a batch",
        common.numbers(required=True),
        said(lambda c: c.service.mark(c.project_id, c.user, keep=c.args["numbers"], cull=[])),
        "mark",
        group=VOLUME,
    ),
    "cull": Verb(
        "`cull 19 20` — cull images from a batch",
        common.numbers(required=True),
        said(lambda c: c.service.mark(c.project_id, c.user, keep=[], cull=c.args["numbers"])),
        "mark",
        group=VOLUME,
    ),
    "upscale": Verb(
        "`upscale [17 18]` — upscale keepers separately",
        common.numbers(required=False),
        said(lambda c: c.service.upscale_keepers(c.project_id, c.user, c.args["numbers"] or None)),
        "upscale",
        group=VOLUME,
    ),
    "fix": Verb(
        "`fix 12 a1 b1 clear sky, remove the stray text` (inpaint grid cells: say what the region should show; what follows remove/no/without goes to the negative prompt; no cells: the open pins of a send-back), `fix 12 refine [strength 0.3] sharper edges`, or `fix 12 mask` with a mask file",
        fixes.fix,
        plays.fix,
        "fix_image",
        free=("instruction",),
        group=FIX,
    ),
    "regenerate": Verb(
        "`regenerate 12` — a new seed for an image's slot value, back to keep/cull (instead of a large fix)",
        common.one_number(),
        lambda c: warn(c.service.regenerate(c.project_id, c.user, c.args["number"]).warnings),
        "regenerate",
        group=VOLUME,
    ),
    "handoff": Verb(
        "`handoff 12 @editor` — hand an image to a human editor; their upload becomes the next version",
        fixes.handoff,
        said(
            lambda c: c.service.hand_off(c.project_id, c.user, c.args["number"], c.args["editor"])
        ),
        "hand_off",
        group=FIX,
    ),
    **TOOLS,
    "review": Verb(
        "`review 12` — send an image to the review gate",
        common.one_number(),
        said(lambda c: c.service.submit_for_review(c.project_id, c.user, c.args["number"])),
        "submit_for_review",
        group=GATE,
    ),
    "sendback": Verb(
        "`sendback 12 license [b2 c2] <note>` — send an image back for a checklist item, pinning grid cells",
        gates.sendback,
        lambda c: warn(
            c.service.review(
                c.project_id,
                c.user,
                c.args["number"],
                decision="send_back",
                reason_item=c.args["item"],
                note=c.args["note"],
                cells=c.args["cells"],
            ).warnings
        ),
        "review",
        free=("note",),
        group=GATE,
    ),
    "reopen": Verb(
        "`reopen sprint <reason>` — re-open the concept sprint to rank a new direction",
        projects.reopen,
        said(lambda c: c.service.reopen_sprint(c.project_id, c.user, c.args["reason"])),
        "reopen_play",
        free=("reason",),
        group=SPRINT,
    ),
    "skip": Verb(
        "`skip lock <reason>` — skip a play deliberately",
        projects.skip,
        said(lambda c: c.service.skip_play(c.project_id, c.user, c.args["play"], c.args["reason"])),
        "skip_play",
        free=("reason",),
        group=ANY_TIME,
    ),
    "budget": Verb(
        "`budget 12 10` — raise an image's iteration budget",
        projects.budget,
        said(
            lambda c: c.service.raise_budget(
                c.project_id, c.user, c.args["number"], c.args["budget"]
            )
        ),
        "raise_budget",
        group=ANY_TIME,
    ),
    "status": Verb(
        "`status [p3]` — the project's plays, pauses and queue; in the channel, every project",
        common.optional_project("status"),
        answers.status,
        needs_project=False,
        hint="status",
        group=ANY_TIME,
    ),
    "recipe": Verb(
        "`recipe` — the locked recipe card", common.nothing("recipe"), answers.recipe, group=LOCK_IN
    ),
    "metrics": Verb(
        "`metrics [project|channel] [--days N]` — keep rate, iterations per final, rework, brief→hero",
        projects.metrics,
        answers.metrics,
        hint="metrics",
        group=ANY_TIME,
    ),
    "queue": Verb(
        "`queue` — every job waiting and running, in every channel: its place in line and when it should be done",
        common.nothing("queue"),
        answers.queue,
        group=ANY_TIME,
    ),
    "cancel": Verb(
        "`cancel [job id]` — cancel this project's queued jobs",
        projects.cancel,
        said(lambda c: c.service.cancel(c.project_id, c.user, c.args["job"])),
        "cancel",
        group=ANY_TIME,
    ),
    "settings": Verb(
        '`settings [budget N] [cooloff MIN] [model NAME] [queue-limit N] [gpu-minutes N|off] [gate-wait HOURS] [digest 09:00 Europe/Berlin] [director @who …]` — channel defaults; `settings blocklist [add|remove <phrase>]` — blocked words; `settings checklist [add <name> "<line>"|remove <name>]` — the gate\'s own items',
        projects.settings,
        answers.settings,
        needs_project=False,
        group=START,
    ),
    "help": Verb(
        "`help` — this list",
        common.help_topic,
        _help,
        needs_project=False,
        free=("topic",),
        hint="help",
        group=ANY_TIME,
    ),
}


HELP_GROUPS: dict[str, tuple[str, ...]] = {
    title: tuple(name for name, verb in VERBS.items() if verb.group == title) for title in GROUPS
}


def parse(text: str) -> Command:
    """A command or thread reply as a Command; UsageError says how to write it."""
    return grammar.parse(text, VERBS)


def usage(verb: str | None = None) -> str:
    return grammar.usage(VERBS, verb, HELP_GROUPS)


def is_verb(word: str) -> bool:
    """Whether a thread reply's first word makes it a command (ordinary chat is ignored)."""
    word = word.lower()
    return (
        word in VERBS
        or word in grammar.ALIASES
        or word == "send"
        or grammar.is_project_prefix(word)
    )


def did_you_mean(text: str) -> str | None:
    """For a thread reply that is not a command: a suggestion if it is one verb's typo away.

    Only when the rest of the reply reads as that verb's arguments, so chat stays chat.
    """
    word, _, rest = text.strip().partition(" ")
    meant = grammar.closest(word, VERBS)
    if meant is None:
        return None
    try:
        VERBS[meant].parser(rest.strip())
    except grammar.UsageError:
        return None
    return f"Did you mean `{meant}`? {usage(meant)}"


def run(call: Call) -> Reply | None:
    """Do what the command says; PlaybookErrors become replies that say what to do next."""
    verb = VERBS[call.command.verb]
    try:
        if not verb.needs_project:
            return verb.run(call)
        return in_project(call, verb.run)
    except NotFound as error:
        return Reply(f":mag: {error}")
    except PlaybookError as error:
        return Reply(f":no_entry: {error}")
