"""A channel's blocked words: prompt text containing one is refused before anything is made.

A phrase matches as whole words, whatever the case or the Unicode form it was typed in
("Ｃａｆé", "CAFÉ" and "café" are one word; "cat" does not match "category"). Every prompt
text a person writes goes through `guard` first: the intent, a sprint's subject and styles,
a recipe's template, style and slot value, volume slot values, a fix's instruction. A refusal
is written to the audit log in its own transaction, so it stays when the request is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.playbook import errors
from storage.models import AuditEntry, ChannelSettings, Project

MAX_PHRASE = 100
MAX_PHRASES = 500


def normalised(text: str) -> str:
    """The form words are compared in: compatibility-composed, case-folded, single-spaced."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def found(texts: Iterable[str], phrases: Iterable[str]) -> str | None:
    """The first blocked phrase any of the texts contains as whole words, or None."""
    prepared = [normalised(text) for text in texts if text]
    for phrase in phrases:
        words = normalised(phrase)
        if not words:
            continue
        pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words.split())) + r"(?!\w)")
        if any(pattern.search(text) for text in prepared):
            return phrase
    return None


def guard(
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    *,
    user: str,
    texts: Iterable[str | None],
    action: str,
    project_id: int | None = None,
    channel_id: str | None = None,
) -> None:
    """Refuse prompt text holding a blocked phrase; the refusal is audited (and committed)."""
    with sessions.begin() as s:
        project = s.get(Project, project_id) if project_id is not None else None
        channel = project.channel_id if project is not None else channel_id
        settings = s.get(ChannelSettings, channel) if channel else None
        phrase = found([text for text in texts if text], (settings and settings.blocklist) or [])
        if phrase is None:
            return
        s.add(
            AuditEntry(
                project_id=project.id if project is not None else None,
                channel_id=str(channel),
                actor=user,
                hat="member",
                action="blocked_words",
                detail={"phrase": phrase, "refused": action},
                created_at=clock(),
            )
        )
    raise refusal(phrase)


def refusal(phrase: str) -> errors.Blocked:
    return errors.Blocked(
        f"“{phrase}” is on this channel's blocked words, so nothing was made. Reword it, or ask "
        f"the channel's Director to lift it: `settings blocklist remove {phrase}`."
    )
