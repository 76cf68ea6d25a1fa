"""Writing the prompt log: numbered images with their lineage, shared by bot and runner."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Image, Project, utcnow


def add_image(
    session: Session, project_id: int, *, parent: Image | None = None, **fields: Any
) -> Image:
    """Insert an image with the project's next number; a root image is its own lineage root."""
    lock = select(Project).where(Project.id == project_id)
    if session.get_bind().dialect.name == "postgresql":
        lock = lock.with_for_update()
    project = session.scalars(lock).one()
    fields.setdefault("created_at", utcnow())
    image = Image(
        project_id=project_id,
        number=project.next_image_number,
        parent_id=parent.id if parent else None,
        root_id=parent.root_id if parent else None,
        **fields,
    )
    project.next_image_number += 1
    session.add(image)
    session.flush()
    if image.root_id is None:
        image.root_id = image.id
        session.flush()
    return image
