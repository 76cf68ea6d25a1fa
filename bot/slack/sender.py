"""What an outbox renderer (bot.slack.posts, comparisons) may use of the dispatcher sending it.

Declared below both, so the renderers need not import the dispatcher that looks them up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from slack_sdk import WebClient

from bot.playbook.service import PlaybookService
from bot.slack.index import MessageIndex
from storage.content_credentials import Credentials
from storage.files import ImageStore
from storage.models import OutboxMessage


class Sender(Protocol):
    service: PlaybookService
    index: MessageIndex
    store: ImageStore
    client: WebClient
    file_limit: int
    credentials: Credentials | None

    def chat_post(
        self, message: OutboxMessage, *, shared: str | None = None, **post: Any
    ) -> str: ...

    def upload(
        self, message: OutboxMessage, digest: str, filename: str, title: str, **share: Any
    ) -> str: ...

    def share_file(
        self, message: OutboxMessage, path: Path, *, title: str, **share: str
    ) -> str: ...
