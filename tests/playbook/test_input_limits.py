"""Numbers and text that would not fit their columns are refused at the command, with the range."""

from __future__ import annotations

import pytest

from bot.playbook import errors
from tests.playbook.conftest import OPERATOR, Flow


def test_seeds_take_any_32_bit_value_and_say_the_range_otherwise(flow: Flow) -> None:
    flow.start()
    flow.direction()
    flow.service.lock_recipe(flow.project_id, OPERATOR, number=3, seed=3_000_000_000)
    recipe = flow.service.recipe(flow.project_id)
    assert recipe is not None and recipe.seed == 3_000_000_000
    with pytest.raises(errors.InvalidInput, match="from 0 to 4294967295"):
        flow.service.lock_recipe(flow.project_id, OPERATOR, number=3, seed=2**32)
    flow.drain()
    assert flow.service.recipe(flow.project_id).reproducible  # type: ignore[union-attr]


def test_a_style_too_long_for_its_column_is_refused_at_the_command(flow: Flow) -> None:
    flow.start()
    with pytest.raises(errors.InvalidInput, match="at most 100 characters"):
        flow.service.run_sprint(flow.project_id, OPERATOR, "a cat", ["x" * 220, "clay", "neon"], 15)
