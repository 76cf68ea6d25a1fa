"""Smaller security points (#12): no exception text in threads, ranges at the command, clean stores."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Config
from bot.playbook import errors
from bot.playbook.service import PlaybookService
from bot.runner.worker import Worker
from bot.workbench.local import LocalSlack
from storage.files import ImageStore, StoreError
from storage.models import Job
from tests.storage.test_queue import one_job, volume_job
from tests.workbench import CHANNEL, DIRECTOR, OPERATOR, png, to_volume

LEAK = "(psycopg.errors.NumericValueOutOfRange) INSERT INTO images (seed) VALUES (2147483648)"


class Exploding:
    """A backend whose generation fails the way a database error would, with all its detail."""

    model_id, model_hash = "tiny", "0" * 64

    def text_to_image(self, tasks: Any) -> Any:
        raise RuntimeError(LEAK)


def test_an_unexpected_runner_error_reaches_the_thread_as_a_reference_only(
    sessions: sessionmaker[Session],
    store: ImageStore,
    service: PlaybookService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    project = service.start_project("C1", "U1", "Art for spring.").project
    with sessions.begin() as s:
        job_id = volume_job(s, project.id).id
    with caplog.at_level(logging.ERROR, logger="atelier.runner"):
        one_job(Worker(sessions, store, lambda _m: Exploding()))  # type: ignore[arg-type,return-value]
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None and job.error is not None
    assert "psycopg" not in job.error and "INSERT" not in job.error
    reference = job.error.split("reference ")[1].split(";")[0]
    logged = [r for r in caplog.records if getattr(r, "reference", None) == reference]
    assert logged and LEAK in (logged[0].exc_text or "")


@pytest.mark.parametrize(
    "intent", ["Cats.\u200bDogs.", "猫が好き。犬も好き。", "Posters。Banners。"]
)
def test_hidden_or_ideographic_sentence_breaks_still_pause(
    service: PlaybookService, intent: str
) -> None:
    assert service.start_project("C1", "U1", intent).project.state == "paused"


def test_a_failed_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ImageStore(str(tmp_path / "store"))

    def disk_full(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.fs, "mv", disk_full)
    with pytest.raises(StoreError, match="No space left"):
        store.put(b"an image")
    assert [p.name for p in (tmp_path / "store").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_non_numeric_timestamp_is_unauthorized_not_an_error(local: LocalSlack) -> None:
    assert local.standin.command(DIRECTOR, CHANNEL, "help", timestamp="soon").status == 401  # type: ignore[arg-type]
    assert local.standin.command(DIRECTOR, CHANNEL, "help").status == 200


class Capture:
    """A web server that is not Slack, remembering the Authorization header of each request."""

    def __init__(self, body: bytes) -> None:
        heard: list[str | None] = []
        self.heard = heard

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                heard.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/loot.png"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_files_come_only_from_slack_and_the_token_never_follows_a_redirect(
    local: LocalSlack,
) -> None:
    thread, numbers = to_volume(local)
    slack = local.standin
    slack.say(OPERATOR, CHANNEL, f"handoff {numbers[0]} <@UEDITOR>", thread_ts=thread)
    local.message(CHANNEL, thread, "is with")
    capture = Capture(png(colour="teal"))
    try:
        for forged in (capture.url, "file:///etc/hostname"):
            slack.upload(
                "UEDITOR", CHANNEL, "fixed.png", png(colour="teal"), thread_ts=thread, url=forged
            )
        local.wait(
            lambda: (
                len([e for e in slack.ephemerals_for("UEDITOR") if "file servers" in e["text"]])
                == 2
            ),
            what="both forged links refused",
        )
        assert capture.heard == []
        slack.upload(
            "UEDITOR",
            CHANNEL,
            "fixed.png",
            png(colour="teal"),
            thread_ts=thread,
            redirect=capture.url,
        )
        local.message(CHANNEL, thread, "New version #")
        assert capture.heard == [None]  # the redirect was followed, without the bot token
    finally:
        capture.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_takeover_from_the_report_is_refused_over_http(local: LocalSlack) -> None:
    slack = local.standin
    slack.command(DIRECTOR, CHANNEL, "new Posters for the spring launch.")
    local.ephemeral(DIRECTOR, "started")
    slack.command(
        "USTRANGER", CHANNEL, "settings director <@USTRANGER> queue-limit 10000 cooloff 0"
    )
    local.ephemeral("USTRANGER", "no Director yet")
    slack.command(DIRECTOR, CHANNEL, f"settings director <@{DIRECTOR}>")
    assert f"Director <@{DIRECTOR}>" in local.ephemeral(DIRECTOR, "settings saved")["text"]
    slack.admins.add("UADMIN")
    slack.command("UADMIN", CHANNEL, "settings budget 9")
    assert "iteration budget 9" in local.ephemeral("UADMIN", "settings saved")["text"]
    slack.command("USTRANGER", CHANNEL, "roles director <@USTRANGER>")
    local.ephemeral("USTRANGER", "Only the channel's Director")
    assert local.server.atelier.service.settings(CHANNEL).director == DIRECTOR


def test_a_channel_picks_a_registered_model_by_name_never_a_path(
    sessions: sessionmaker[Session],
) -> None:
    registry = Config(None, None, None, "", "", "", "sd15=/models/sd15", "cpu").models()
    assert registry == {"tiny": "tiny", "shapes": "shapes", "sd15": "sd15=/models/sd15"}
    service = PlaybookService(sessions, models=registry)
    for path in ("sd15=/srv/anything", "/srv/anything", "../models"):
        with pytest.raises(errors.InvalidInput, match="not a registered model"):
            service.update_settings("CMODEL", "UDIR", model=path)
    assert service.update_settings("CMODEL", "UDIR", model="sd15").model == "sd15"
    bare = Config(None, None, None, "", "", "", "/models/brandXL/", "cpu").models()
    assert bare == {"tiny": "tiny", "shapes": "shapes", "brandXL": "/models/brandXL/"}


def test_a_runner_loads_registered_names_only_and_says_so(
    sessions: sessionmaker[Session], store: ImageStore, service: PlaybookService
) -> None:
    from bot.runner.diffusion import registered_backend

    project = service.start_project("C1", "U1", "Art for spring.").project
    with sessions.begin() as s:
        job = volume_job(s, project.id)
        job.params = {**job.params, "settings": {**job.params["settings"], "model": "/etc"}}
        job_id = job.id
    one_job(Worker(sessions, store, registered_backend({"tiny": "tiny"}, "cpu")))
    with sessions() as s:
        failed = s.get(Job, job_id)
        assert failed is not None and failed.status == "failed"
        assert (
            failed.error is not None and "`/etc` is not registered on this runner" in failed.error
        )


def test_a_models_name_not_its_folder_goes_on_cards_and_pngs(tmp_path: Path) -> None:
    from bot.runner.models import resolve

    folder = tmp_path / "brandXL"
    folder.mkdir()
    (folder / "model_index.json").write_text("{}")
    assert resolve(str(folder)).model_id == "brandXL"
    assert resolve(f"brand={folder}").model_id == "brand"
