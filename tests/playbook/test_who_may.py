"""Who may is said once (#26): WHO_MAY, which the service checks and `help` shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.playbook import errors
from bot.playbook.roles import ANY_ROLE, WHO_MAY, May, Role
from handlers.verbs import VERBS
from tests.playbook.conftest import OPERATOR, STRANGER, Flow

PLAYBOOK = Path(__file__).parents[2] / "bot" / "playbook"


def test_use_cases_check_roles_only_through_who_may() -> None:
    declared = re.compile(r"    MAY = \{\n.*?\n    \}\n", re.S)
    sources = {
        str(path.relative_to(PLAYBOOK)): declared.sub("", path.read_text())
        for folder in ("plays", "tools")
        for path in (PLAYBOOK / folder).glob("*.py")
    }
    named = set(re.findall(r'"(\w+)"', "\n".join(sources.values())))
    assert set(WHO_MAY) <= named, set(WHO_MAY) - named  # no entry without a use case naming it
    checking = [name for name, text in sources.items() if re.search(r"Role\.[A-Z]", text)]
    assert checking == []  # no use case names a hat of its own, outside its MAY


def test_a_decision_is_declared_once() -> None:
    from bot.playbook.plays.base import UseCases

    with pytest.raises(TypeError, match="'ship'"):
        type("AnotherShip", (UseCases,), {"MAY": {"ship": May(ANY_ROLE, "ship it again")}})
    assert WHO_MAY["ship"].doing == "post its ship pack"


def test_help_shows_the_hats_the_service_checks() -> None:
    for name, verb in VERBS.items():
        if verb.may:
            assert verb.usage.endswith(f"({WHO_MAY[verb.may].who})"), name
    assert WHO_MAY["ship"].who == "Director, Operator or Reviewer"
    assert WHO_MAY["ship"].roles == ANY_ROLE
    assert VERBS["sendback"].usage.endswith("(Reviewer)")


def test_a_refusal_is_worded_from_the_entry_and_the_hat_recorded_is_the_one_held(
    flow: Flow,
) -> None:
    flow.start()
    number = flow.ready_for_gate()
    service = flow.service
    with pytest.raises(errors.NotAuthorized) as refused:
        service.regenerate(flow.project_id, STRANGER, number)
    assert str(refused.value).startswith(
        f"Only the Operator (<@{OPERATOR}>) can {WHO_MAY['regenerate'].doing}. You hold no role"
    )
    with pytest.raises(errors.NotAuthorized, match="Only the project's Director, Operator or"):
        service.submit_for_review(flow.project_id, STRANGER, number)
    service.submit_for_review(flow.project_id, OPERATOR, number)
    (entry,) = [e for e in service.audit(flow.project_id) if e.action == "submit_for_review"]
    assert (entry.actor, entry.hat) == (OPERATOR, Role.OPERATOR.value)
