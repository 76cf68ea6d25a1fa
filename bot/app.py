"""The Bolt app factory and the Slack client every part shares."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

import handlers
from bot.config import Config
from bot.slack.context import Atelier
from bot.slack.inbox import InboxWorkers

LISTENER_THREADS = 32


def make_client(config: Config) -> WebClient:
    """A Web API client that waits out 429s (Retry-After) and retries 5xx and dropped connections."""
    if not config.slack_bot_token:
        raise SystemExit(
            "SLACK_BOT_TOKEN is not set. Create the app from manifest.yml and copy its bot token (xoxb-…)."
        )
    return WebClient(
        token=config.slack_bot_token,
        base_url=config.slack_api_url,
        timeout=config.slack_timeout,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(config: Config, atelier: Atelier, inbox: InboxWorkers) -> App:
    """The app Slack talks to: it records each request in the inbox and acks.

    Only view submissions reach a listener here (their errors go in the ack); the rest are
    applied later by the inbox's workers through `create_replay_app`.
    """
    if not config.slack_signing_secret:
        raise SystemExit(
            "SLACK_SIGNING_SECRET is not set. Copy it from the app's Basic Information page."
        )
    app = App(
        client=atelier.client,
        signing_secret=config.slack_signing_secret,
        process_before_response=False,
        # Listeners ack first and then work; Bolt's default of 5 threads let slow work delay acks.
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="listener"
        ),
    )
    handlers.register(app, atelier)
    app.use(inbox.middleware)
    return app


def create_replay_app(config: Config, atelier: Atelier) -> App:
    """The app the inbox applies requests through: each listener runs to its end before
    `dispatch` returns, so a request is marked applied only once its work is done."""
    app = App(
        client=atelier.client,
        signing_secret=config.slack_signing_secret,
        process_before_response=True,
        request_verification_enabled=False,  # checked when it was acked
    )
    handlers.register(app, atelier)
    return app
