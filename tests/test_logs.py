"""Tokens and signing secrets never reach the logs, even at DEBUG."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bot.logs import JsonFormatter
from bot.workbench.local import LocalSlack, free_port, serve
from bot.workbench.standin import SlackStandIn


def test_the_formatter_masks_secrets_and_any_slack_token() -> None:
    import logging

    formatter = JsonFormatter(["s3cr3t-signing"])
    record = logging.makeLogRecord(
        {
            "msg": "calling with xoxb-123-456-abc and s3cr3t-signing",
            "levelname": "INFO",
            "name": "t",
        }
    )
    line = formatter.format(record)
    assert "s3cr3t-signing" not in line and "xoxb-123-456-abc" not in line
    assert "xoxb-[redacted]" in json.loads(line)["msg"]


def test_a_debug_serve_process_logs_no_secret(tmp_path: Path) -> None:
    standin = SlackStandIn(token="xoxb-9999-SECRETBOTTOKEN", signing_secret="SIGNINGSECRET-4242")
    standin.start()
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": standin.token,
        "SLACK_SIGNING_SECRET": standin.signing_secret,
        "SLACK_APP_TOKEN": "xapp-1-APPTOKEN-77",
        "SLACK_API_URL": standin.api_url,
        "ATELIER_DATABASE_URL": f"sqlite:///{tmp_path}/l.db",
        "ATELIER_IMAGE_STORE": str(tmp_path / "s"),
        "ATELIER_LOG_LEVEL": "DEBUG",
    }
    log = (tmp_path / "serve.log").open("w")
    proc = serve(env, port, "--no-runner", output=log)
    try:
        standin.app_url = f"http://127.0.0.1:{port}/slack/events"
        standin.command("U1", "C1", "new Posters for the launch.")
        standin.command("U1", "C1", "bogus")
        standin.command("U1", "C1", "help", secret="wrong-secret")
        LocalSlack.wait(lambda: len(standin.history("C1")) >= 1, 30, "the root message")
    finally:
        proc.terminate()
        proc.wait(20)
        standin.stop()
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert len(text) > 1000 and '"level": "debug"' in text  # it really logged at DEBUG
    for secret in ("SECRETBOTTOKEN", "SIGNINGSECRET-4242", "APPTOKEN-77"):
        assert secret not in text
