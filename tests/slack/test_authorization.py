"""Every click, modal and reaction as every role and as a stranger, over signed HTTP.

Only the role holder's attempt may change anything; everyone else is told why and nothing moves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.workbench.local import LocalSlack
from handlers.actions import ACTIONS
from storage import outbox
from storage.gate_models import GateDraft
from storage.models import Image
from storage.states import ImageStatus
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, REVIEWER, STRANGER, sprint, start

EVERYONE = (DIRECTOR, OPERATOR, REVIEWER, STRANGER)
ALL_BOXES = [
    "clear_of_people_logos_artists",
    "license_permits_use",
    "no_offensive_content",
    "alt_text_written",
]


class Table:
    """Runs one row: every other person first (refused, nothing changes), then the holder."""

    def __init__(self, local: LocalSlack, thread: str) -> None:
        self.local, self.slack, self.thread = local, local.standin, thread
        self.service = local.server.atelier.service
        self.rows: list[str] = []

    def fingerprint(self) -> tuple[Any, ...]:
        project = self.service.latest_project(CHANNEL)
        assert project is not None
        exported = self.service.export(project.id)
        with self.service.sessions() as s:
            drafts = [(d.image_id, d.ticked, d.alt_text) for d in s.scalars(select(GateDraft))]
        return (
            exported,
            len(self.service.audit(project.id)),
            [(j.id, j.status) for j, _ in self.service.jobs(CHANNEL)],
            drafts,
            len(self.slack.calls_of("views.open")),
        )

    def row(
        self,
        name: str,
        holders: str | tuple[str, ...],
        attempt: Callable[[str], Any],
        took_effect: Callable[[], Any] | None = None,
    ) -> None:
        self.rows.append(name)
        holders = (holders,) if isinstance(holders, str) else holders
        self.local.settle()  # the runner finishes what earlier rows started, so only the row acts
        for user in EVERYONE:
            if user in holders:
                continue
            before, heard = self.fingerprint(), len(self.slack.ephemerals_for(user))
            attempt(user)
            refusal = self.local.wait(
                lambda u=user, n=heard: [
                    e for e in self.slack.ephemerals_for(u)[n:] if "Only the" in e["text"]
                ],
                15,
                f"{user} to be told why {name} was refused",
            )
            assert refusal, name
            assert self.fingerprint() == before, f"{name} as {user} changed state"
        before = self.fingerprint()
        attempt(holders[0])
        self.local.wait(
            took_effect or (lambda: self.fingerprint() != before),
            60,
            f"{name} by its holder to take effect",
        )


def _view(local: LocalSlack, callback: str) -> dict[str, Any]:
    slack = local.standin
    return dict(
        local.wait(
            lambda: [v for v in slack.ws.views.values() if v["callback_id"] == callback][-1:],
            10,
            f"the {callback} modal",
        )[0]
    )


def _submit(local: LocalSlack, callback: str, values: dict[str, Any]) -> Callable[[str], Any]:
    view = _view(local, callback)
    return lambda user: local.standin.submit(user, view["id"], values)


@pytest.mark.also_postgresql
def test_every_click_modal_and_reaction_as_every_role(local: LocalSlack) -> None:
    slack = local.standin
    thread = start(local)
    table = Table(local, thread)
    board = sprint(local, thread)

    table.row("rank_open", DIRECTOR, lambda u: slack.press(u, CHANNEL, board, "rank_open"))
    table.row(
        "rank modal",
        DIRECTOR,
        _submit(local, "rank", {"rank_0": "1", "rank_1": "2", "rank_2": "3"}),
    )
    table.row(
        "✅ on the moodboard",
        DIRECTOR,
        lambda u: slack.react(u, CHANNEL, board, "white_check_mark"),
    )
    table.row(
        "approve_direction",
        DIRECTOR,
        lambda u: slack.press(u, CHANNEL, board, "approve_direction"),
        lambda: local.ephemeral(DIRECTOR, "already"),
    )

    slack.say(OPERATOR, CHANNEL, "lock 1", thread_ts=thread)
    hero = str(local.message(CHANNEL, thread, "Hero #")["ts"])
    table.row("approve_hero", DIRECTOR, lambda u: slack.press(u, CHANNEL, hero, "approve_hero"))
    table.row(
        "✅ on the hero",
        DIRECTOR,
        lambda u: slack.react(u, CHANNEL, hero, "white_check_mark"),
        lambda: local.ephemeral(DIRECTOR, "already"),
    )

    slack.say(OPERATOR, CHANNEL, "volume red bike x4", thread_ts=thread)
    batch = str(local.message(CHANNEL, thread, "Volume batch")["ts"])
    numbers = [int(o["value"]) for o in slack.element(CHANNEL, batch, "keep_0")[1]["options"]]
    slack.set_state(CHANNEL, batch, "keep_0", [str(n) for n in numbers[:2]])
    table.row("batch_save", OPERATOR, lambda u: slack.press(u, CHANNEL, batch, "batch_save"))
    table.row(
        "fix_open", OPERATOR, lambda u: slack.press(u, CHANNEL, batch, "fix_open", str(numbers[0]))
    )
    table.row(
        "fix modal",
        OPERATOR,
        _submit(
            local,
            "fix",
            {"mode": "inpaint", "cells": ["a1"], "instruction": "clear sky", "strength": "0.75"},
        ),
    )
    repaired = str(local.message(CHANNEL, thread, "Repaired #")["ts"])
    # A fix over a third is refused with *Regenerate #N* (to the Operator, who asked).
    slack.say(OPERATOR, CHANNEL, f"fix {numbers[0]} a1 a2 a3 b1 too big", thread_ts=thread)
    offer = str(local.ephemeral(OPERATOR, "more than a third")["ts"])
    table.row("regenerate", OPERATOR, lambda u: slack.press(u, CHANNEL, offer, "regenerate"))
    table.row(
        "upscale_keepers", OPERATOR, lambda u: slack.press(u, CHANNEL, batch, "upscale_keepers")
    )
    # Any of the project's three roles may send an image to the gate; a stranger may not.
    table.row(
        "send_to_gate",
        (OPERATOR, DIRECTOR, REVIEWER),
        lambda u: slack.press(u, CHANNEL, repaired, "send_to_gate"),
    )

    gate = local.message(CHANNEL, thread, "Review gate")
    first = str(gate["ts"])
    table.row(
        "gate_boxes",
        REVIEWER,
        lambda u: slack.set_state(CHANNEL, first, "gate_boxes", ALL_BOXES[:2], dispatch_user=u),
    )
    table.row(
        "gate_alt",
        REVIEWER,
        lambda u: slack.set_state(
            CHANNEL, first, "gate_alt", f"A courier, typed by {u}.", dispatch_user=u
        ),
    )
    table.row("gate_sendback", REVIEWER, lambda u: slack.press(u, CHANNEL, first, "gate_sendback"))
    table.row(
        "sendback modal",
        REVIEWER,
        _submit(local, "sendback", {"item": "license_permits_use", "note": "stock terms unclear"}),
    )

    slack.say(OPERATOR, CHANNEL, f"review {numbers[1]}", thread_ts=thread)
    second = str(local.message(CHANNEL, thread, f"Review gate: #{numbers[1]}")["ts"])
    table.row(
        "❌ on the gate",
        REVIEWER,
        lambda u: slack.react(u, CHANNEL, second, "x"),
        lambda: local.message(CHANNEL, thread, f"which checklist item does #{numbers[1]} fail"),
    )
    slack.set_state(CHANNEL, second, "gate_boxes", ALL_BOXES, dispatch_user=REVIEWER)
    slack.set_state(
        CHANNEL, second, "gate_alt", "A courier on a red bike at dawn.", dispatch_user=REVIEWER
    )
    table.row("gate_clear", REVIEWER, lambda u: slack.press(u, CHANNEL, second, "gate_clear"))
    table.row(
        "✅ on the gate",
        REVIEWER,
        lambda u: slack.react(u, CHANNEL, second, "white_check_mark"),
        lambda: [
            e
            for e in slack.ephemerals_for(REVIEWER)
            if "Only the" not in e["text"] and f"#{numbers[1]}" in e["text"]
        ],
    )

    # Once something is cleared, the root offers the ship pack to the project's three roles.
    local.wait(
        lambda: "ship_pack" in str(local.root(CHANNEL)["blocks"]), 30, "the Ship pack button"
    )
    table.row(
        "ship_pack",
        (DIRECTOR, OPERATOR, REVIEWER),
        lambda u: slack.press(u, CHANNEL, thread, "ship_pack"),
        lambda: local.message(CHANNEL, thread, "Ship pack for project"),
    )

    # What a model folder's safety checker flags waits for the Reviewer alone. A real checker is
    # in test_safety_checker; here two sprint candidates are held by hand, so the buttons have rows.
    with table.service.sessions.begin() as s:
        for number in (4, 5):
            s.scalars(select(Image).where(Image.number == number)).one().status = ImageStatus.HELD
        outbox.add(s, channel_id=CHANNEL, project_id=1, kind="held", payload={"numbers": [4, 5]})
    held = str(local.message(CHANNEL, thread, "Held for the Reviewer")["ts"])
    for action, number in (("held_release", 4), ("held_cull", 5)):
        table.row(
            action,
            REVIEWER,
            lambda u, a=action, n=number: slack.press(u, CHANNEL, held, a, block=f"held:1:{n}"),
        )

    assert set(ACTIONS) <= set(table.rows), f"actions with no row: {set(ACTIONS) - set(table.rows)}"
