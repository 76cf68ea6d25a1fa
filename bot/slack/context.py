"""What every listener needs: the service, the message index, the image store and a Slack client."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.lora_files import LoraFolder
from bot.playbook.service import PlaybookService
from bot.slack.home import HomeTab
from bot.slack.index import MessageIndex
from storage.content_credentials import Credentials
from storage.files import ImageStore
from storage.models import Project

log = logging.getLogger("atelier.slack")


@dataclass
class Atelier:
    service: PlaybookService
    index: MessageIndex
    store: ImageStore
    client: WebClient
    loras: LoraFolder = field(default_factory=lambda: LoraFolder(None))
    credentials: Credentials | None = None  # signs what serve writes: editors' files, sheets
    home: HomeTab = field(init=False)

    def __post_init__(self) -> None:
        self.home = HomeTab(self.service, self.index, self.client)

    def whisper(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        """An ephemeral message only `user` sees; failures are logged, never raised at them."""
        try:
            self.client.chat_postEphemeral(
                channel=channel, user=user, text=text, blocks=blocks, thread_ts=thread_ts
            )
        except SlackApiError as error:
            log.warning(
                "ephemeral failed", extra={"error": error.response.get("error"), "channel": channel}
            )

    def is_admin(self, user: str) -> bool:
        """A workspace admin or owner (users.info); unknown or unreachable means no."""
        try:
            found = self.client.users_info(user=user)["user"]
        except SlackApiError as error:
            log.warning("users.info failed", extra={"error": error.response.get("error")})
            return False
        return bool(found.get("is_admin") or found.get("is_owner"))

    def project_for(
        self, channel: str, thread_ts: str | None, explicit: int | None
    ) -> Project | None:
        """The project a command is about: the thread's, the one named (`p3`), or the channel's latest."""
        if explicit is not None:
            project = self.service.project(explicit)
            return project if project.channel_id == channel else None
        if thread_ts:
            found = self.service.project_in_thread(channel, thread_ts)
            if found is not None:
                return found
        return self.service.latest_project(channel)
