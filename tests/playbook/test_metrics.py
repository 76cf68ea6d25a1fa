"""The metrics against values computed by hand on a fixture of two projects."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.playbook.service import PlaybookService
from storage.metric_windows import MetricInputs, metric_inputs, metric_inputs_by_window
from tests.fixtures import T0


def test_channel_metrics_match_hand_computed_values(
    service: PlaybookService, fixture_projects: None
) -> None:
    window = {"since": T0 - timedelta(days=1), "until": T0 + timedelta(days=1)}
    keep, iterations, rework, hero, picks = service.metrics(channel_id="C1", **window)
    # Volume renders at keep/cull in window (text to image and image to image; repairs are not):
    # A has 6 (r1, r2, r3, its img2img child, 2 roots), B has 3 → 9; kept: r1, r2 → 2.
    assert (keep.value, keep.count) == (pytest.approx(2 / 9), 9)
    assert keep.basis() == "from 9 volume images"
    assert (picks.value, picks.count) == (None, 0)  # no sprint candidates in this fixture
    # Every generation in the window: A made 10 (8 attempts, an upscale, a re-check), B 3 → 13;
    # finals cleared: r1_fixed and r2 → 13 / 2. Their own lineages alone: (3 + 1) / 2 = 2.0.
    assert (iterations.value, iterations.count) == (6.5, 2)
    assert "its own history alone: 2.0" in iterations.meaning
    # Reviewed 4, sent back 2.
    assert (rework.value, rework.count) == (0.5, 4)
    # Brief → approved hero: 5 h and 2 h.
    assert (hero.value, hero.count) == (pytest.approx(3.5), 2)
    assert keep.formatted() == "22%" and hero.formatted() == "3.5 h"


def test_project_and_team_scopes(service: PlaybookService, fixture_projects: None) -> None:
    window = {"since": T0 - timedelta(days=1), "until": T0 + timedelta(days=1)}
    keep, _, rework, hero, _ = service.metrics(project_id=2, **window)
    assert (keep.value, keep.count, rework.value, hero.value) == (0.0, 3, 1.0, pytest.approx(2.0))
    team_keep = service.metrics(**window)[0]
    assert (team_keep.value, team_keep.count) == (pytest.approx(3 / 10), 10)


def test_empty_window_says_not_available(service: PlaybookService, fixture_projects: None) -> None:
    metrics = service.metrics(
        channel_id="C1", since=T0 + timedelta(days=30), until=T0 + timedelta(days=31)
    )
    assert [m.formatted() for m in metrics] == ["no data yet"] * 5
    assert [m.count for m in metrics] == [0] * 5


def test_windows_read_together_count_as_each_window_read_alone(
    sessions: sessionmaker[Session], fixture_projects: None
) -> None:
    """The digest reads ten windows in one pass; overlapping and nested ones count the same."""
    day, hour = timedelta(days=1), timedelta(hours=1)
    windows = [
        (T0 - 8 * day, T0 + day),  # holds B's week-old image
        (T0 - day, T0 + day),
        (T0 - 8 * day, T0 - 6 * day),
        (T0 + 2 * hour, T0 + 4 * hour),  # B's hero only (A's is at 5 h)
        (T0 + 30 * day, T0 + 31 * day),  # nothing
    ]
    with sessions() as s:
        together = metric_inputs_by_window(s, windows, channel_id="C1")
        alone = [metric_inputs(s, since=a, until=b, channel_id="C1") for a, b in windows]
    assert [_sorted(inputs) for inputs in together] == [_sorted(inputs) for inputs in alone]
    assert (together[0].generated, together[1].generated, together[2].generated) == (10, 9, 1)
    assert together[3].hero_durations == [timedelta(hours=2)]
    assert together[4] == MetricInputs(0, 0, 0, [], 0, 0, [])


def _sorted(inputs: MetricInputs) -> MetricInputs:
    return replace(
        inputs,
        lineage_sizes=sorted(inputs.lineage_sizes),
        hero_durations=sorted(inputs.hero_durations),
    )
