"""A verb's registry entry, and the small wrappers most verbs' handlers are built from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import bot.playbook.service  # noqa: F401  (defines every use-case class, so WHO_MAY is whole)
from bot.playbook.roles import WHO_MAY
from bot.slack.grammar import Parser
from handlers.context import Call, Reply

# `help` and the README list the verbs by the play they serve, in this order; each verb's
# entry names its group.
START = "Start a project"
SPRINT = "1 · Concept sprint"
LOCK_IN = "2 · Lock-in pass"
VOLUME = "3 · Volume run"
FIX = "4 · Fix-and-finish"
GATE = "5 · Review gate"
ANY_TIME = "Any time"
GROUPS = (START, SPRINT, LOCK_IN, VOLUME, FIX, GATE, ANY_TIME)


@dataclass(frozen=True)
class Verb:
    """A verb: how it is written, what runs it, and who may run it.

    `may` names the decision's entry in the playbook's WHO_MAY: `help` shows its hats, and the
    service checks the same entry, so the two cannot disagree. Empty: anyone in the channel.
    """

    text: str
    parser: Parser
    run: Callable[[Call], Reply | None]
    may: str = ""
    needs_project: bool = True
    # The arguments that are the person's own words (an intent, an instruction, a reason): the
    # only ones that may hold option-like text; every other word is used or refused.
    free: tuple[str, ...] = ()
    # Its short form in the manifest's usage hint (Slack shows it while typing `/atelier`).
    hint: str = ""
    group: str = ""  # one of GROUPS

    @property
    def usage(self) -> str:
        return f"{self.text} ({WHO_MAY[self.may].who})" if self.may else self.text


def said(use_case: Callable[[Call], object]) -> Callable[[Call], None]:
    """A verb whose use case says what it did in the thread; the asker gets no extra reply."""

    def run(call: Call) -> None:
        use_case(call)

    return run


def warn(warnings: list[str]) -> Reply | None:
    return Reply(":warning: " + " ".join(warnings)) if warnings else None
