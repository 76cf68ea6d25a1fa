"""The four metrics against values computed by hand on a fixture of two projects."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.playbook.service import PlaybookService
from tests.fixtures import T0


def test_channel_metrics_match_hand_computed_values(
    service: PlaybookService, fixture_projects: None
) -> None:
    window = {"since": T0 - timedelta(days=1), "until": T0 + timedelta(days=1)}
    keep, iterations, rework, hero = service.metrics(channel_id="C1", **window)
    # Attempts in window: A has 8 (r1, 2 inpaints, r2, r3, img2img, 2 roots), B has 3 → 11; kept: r1, r1_fixed, r2 → 3.
    assert (keep.value, keep.count) == (pytest.approx(3 / 11), 11)
    # Every generation in the window: A made 10 (8 attempts, an upscale, a re-check), B 3 → 13;
    # finals cleared: r1_fixed and r2 → 13 / 2. Their own lineages alone: (3 + 1) / 2 = 2.0.
    assert (iterations.value, iterations.count) == (6.5, 2)
    assert "its own lineage alone: 2.0" in iterations.meaning
    # Reviewed 4, sent back 2.
    assert (rework.value, rework.count) == (0.5, 4)
    # Brief → approved hero: 5 h and 2 h.
    assert (hero.value, hero.count) == (pytest.approx(3.5), 2)
    assert keep.formatted() == "27%" and hero.formatted() == "3.5 h"


def test_project_and_team_scopes(service: PlaybookService, fixture_projects: None) -> None:
    window = {"since": T0 - timedelta(days=1), "until": T0 + timedelta(days=1)}
    keep, _, rework, hero = service.metrics(project_id=2, **window)
    assert (keep.value, keep.count, rework.value, hero.value) == (0.0, 3, 1.0, pytest.approx(2.0))
    team_keep = service.metrics(**window)[0]
    assert (team_keep.value, team_keep.count) == (pytest.approx(4 / 12), 12)


def test_empty_window_says_not_available(service: PlaybookService, fixture_projects: None) -> None:
    metrics = service.metrics(
        channel_id="C1", since=T0 + timedelta(days=30), until=T0 + timedelta(days=31)
    )
    assert [m.formatted() for m in metrics] == ["n/a"] * 4
    assert [m.count for m in metrics] == [0] * 4
