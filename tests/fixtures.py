"""The metric fixture: three projects with hand-counted images, reviews and heroes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage.gate_models import GateReview
from storage.models import Image, Project
from storage.prompt_log import add_image

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _project(s: Session, channel: str, created: datetime, hero: datetime | None) -> Project:
    project = Project(
        channel_id=channel,
        intent="x.",
        director="D",
        operator="O",
        reviewer="R",
        model="tiny",
        iteration_budget=8,
        review_cooloff_minutes=10,
        created_by="D",
        created_at=created,
        hero_approved_at=hero,
    )
    s.add(project)
    s.flush()
    return project


def _image(
    s: Session,
    project: Project,
    kind: str = "txt2img",
    parent: Image | None = None,
    kept: bool = False,
    at: datetime = T0,
) -> Image:
    return add_image(
        s,
        project.id,
        parent=parent,
        play="volume",
        kind=kind,
        status="kept" if kept else "candidate",
        prompt="p",
        seed=1,
        width=64,
        height=64,
        file_hash="0" * 64,
        model_hash="h",
        created_by="O",
        created_at=at,
        kept_at=at if kept else None,
    )


def _review(s: Session, project: Project, image: Image, decision: str, at: datetime = T0) -> None:
    s.add(
        GateReview(
            project_id=project.id,
            image_id=image.id,
            reviewer="R",
            hat="reviewer",
            decision=decision,
            created_at=at,
        )
    )


@pytest.fixture
def fixture_projects(sessions: sessionmaker[Session]) -> None:
    """Channel C1: project A (brief→hero 5 h) and B (2 h); C2: project C (outside C1)."""
    with sessions.begin() as s:
        a = _project(s, "C1", T0, T0 + timedelta(hours=5))
        b = _project(s, "C1", T0 + timedelta(hours=1), T0 + timedelta(hours=3))
        c = _project(s, "C2", T0, None)
        # A: root r1 with two inpaint children; r2 alone; r3 with one img2img child; 2 more roots.
        r1 = _image(s, a, kept=True)
        _image(s, a, "inpaint", parent=r1)
        r1_fixed = _image(s, a, "inpaint", parent=r1, kept=True)
        _image(s, a, "upscale", parent=r1_fixed)  # not an attempt
        _image(s, a, "repro", parent=r1)  # not an attempt
        r2 = _image(s, a, kept=True)
        r3 = _image(s, a)
        _image(s, a, "img2img", parent=r3)
        _image(s, a)
        _image(s, a)
        # B: three attempts, none kept; one image from a week ago (outside the window).
        b1 = _image(s, b)
        _image(s, b)
        _image(s, b)
        _image(s, b, kept=True, at=T0 - timedelta(days=7))
        _image(s, c, kept=True)
        # Reviews: A clears r1_fixed and r2, sends r3 back; B sends b1 back.
        _review(s, a, r1_fixed, "cleared")
        _review(s, a, r2, "cleared")
        _review(s, a, r3, "sent_back")
        _review(s, b, b1, "sent_back")
