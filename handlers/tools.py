"""The everyday image tools as verbs: re-roll, vary, compare, ship, info and note (see handlers.verbs)."""

from __future__ import annotations

from bot.slack.parsing import tools as t
from bot.slack.parsing.common import nothing, number_and_text, one_number
from handlers import answers
from handlers.context import Call, Reply
from handlers.registry import ANY_TIME, FIX, GATE, LOCK_IN, SPRINT, Verb, said, warn


def _note(call: Call) -> Reply:
    number = call.args["number"]
    call.service.note(call.project_id, call.user, number, call.args["text"])
    return Reply(f":memo: Noted on #{number}; `info {number}` shows it to anyone who asks.")


TOOLS: dict[str, Verb] = {
    "reroll": Verb(
        "`reroll 18 [x3]` — new seeds for an image, the rest as it was made; counts against its budget",
        t.reroll,
        lambda c: warn(
            c.service.reroll(c.project_id, c.user, c.args["number"], c.args["count"]).warnings
        ),
        "reroll",
        group=SPRINT,
    ),
    "vary": Verb(
        "`vary 12 subtle|strong [x4]` — image-to-image variations of an image; in volume, against its budget",
        t.vary,
        lambda c: warn(
            c.service.vary(
                c.project_id, c.user, c.args["number"], c.args["how"], c.args["count"]
            ).warnings
        ),
        "vary",
        group=SPRINT,
    ),
    "compare": Verb(
        "`compare 12 15` — two images side by side with a map of what changed, in the thread",
        t.two_numbers,
        said(lambda c: c.service.compare(c.project_id, c.user, c.args["before"], c.args["after"])),
        group=FIX,
    ),
    "ship": Verb(
        "`ship` — one zip of the cleared finals, finals.csv, recipes, gate record and audit log, in the thread",
        nothing("ship"),
        said(lambda c: c.service.ship(c.project_id, c.user)),
        "ship",
        group=GATE,
    ),
    "recipes": Verb(
        "`recipes` — the channel's approved recipes: hero, keep rate, finals; start from one with `new … from recipe P3v2`",
        nothing("recipes"),
        answers.recipes,
        needs_project=False,
        group=LOCK_IN,
    ),
    "info": Verb(
        "`info 12` — an image's prompt, seed, model, history and status, shown only to you (or react 🔍 on it)",
        one_number(),
        answers.info,
        group=ANY_TIME,
    ),
    "note": Verb(
        "`note 12 <text>` — a note on an image for the team; `info 12` shows the notes",
        number_and_text("text"),
        _note,
        "note",
        free=("text",),
        group=ANY_TIME,
    ),
}
