"""Numbers and text that would not fit their columns are refused at the command, with the range."""

from __future__ import annotations

import pytest

from bot.playbook import errors
from tests.playbook.conftest import DIRECTOR, OPERATOR, Flow


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
    flow.service.approve_hero(flow.project_id, DIRECTOR)
    volume = flow.service.run_volume(flow.project_id, OPERATOR, ["red bike"], per_value=2).job
    flow.drain()
    seeds = [i.seed for i in flow.service.images(flow.project_id) if i.job_id == volume.id]  # type: ignore[union-attr]
    assert seeds == [3_000_000_000, 3_000_000_001]  # past a 32-bit signed column, on both databases


def test_a_style_too_long_for_its_column_is_refused_at_the_command(flow: Flow) -> None:
    flow.start()
    with pytest.raises(errors.InvalidInput, match="at most 100 characters"):
        flow.service.run_sprint(flow.project_id, OPERATOR, "a cat", ["x" * 220, "clay", "neon"], 15)


def test_a_double_click_on_upscale_makes_one_job(flow: Flow) -> None:
    flow.start()
    flow.volume()
    first = flow.service.upscale_keepers(flow.project_id, OPERATOR)
    with pytest.raises(errors.InvalidInput, match="no keepers left to upscale"):
        flow.service.upscale_keepers(flow.project_id, OPERATOR)
    kept = [i.number for i in flow.service.images(flow.project_id) if i.status == "kept"]
    with pytest.raises(errors.InvalidInput, match="upscaled already"):
        flow.service.upscale_keepers(flow.project_id, OPERATOR, kept[-1:])
    assert first.job is not None and first.job.progress_total == 2


def test_upscales_stop_at_the_models_largest_size(flow: Flow) -> None:
    flow.start()
    number = flow.volume()[0]
    for size in (128, 256, 512):  # the tiny model's largest size is 512 px
        flow.service.upscale_keepers(flow.project_id, OPERATOR, [number])
        flow.drain()
        number = flow.service.images(flow.project_id)[-1].number
        assert flow.service.image(flow.project_id, number).width == size
    with pytest.raises(errors.InvalidInput, match="passes this model's largest size, 512 px"):
        flow.service.upscale_keepers(flow.project_id, OPERATOR, [number])


def test_subjects_and_slot_values_have_a_length_limit_too(flow: Flow) -> None:
    flow.start()
    with pytest.raises(errors.InvalidInput, match="subject is at most 200 characters"):
        flow.service.run_sprint(flow.project_id, OPERATOR, "a" * 201, ["ink", "clay", "neon"], 15)
    flow.volume()
    with pytest.raises(errors.InvalidInput, match="slot value is at most 200 characters"):
        flow.service.run_volume(flow.project_id, OPERATOR, ["b" * 201])
