"""Content Credentials (#23, item 1): signed C2PA manifests on what Atelier posts and ships."""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import c2pa
import pytest

from bot import cli
from bot.config import Config
from bot.workbench import walk
from bot.workbench.local import LocalSlack
from storage.content_credentials import NO_CERTIFICATE, Credentials, CredentialsError
from storage.pngs import read_png
from tests.certificates import Certificates, make_certificates
from tests.slack.test_ship_pack import pack_in_thread
from tests.workbench import CHANNEL, DIRECTOR, NAMES, OPERATOR, TEAM, config_for, png, to_volume

MADE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CHANGED = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path / "certificates")


@pytest.fixture
def signed(db_url: str, tmp_path: Path, certificates: Certificates) -> Iterator[LocalSlack]:
    """Atelier with the team's certificate and key, given as file paths."""
    config = replace(
        config_for(db_url, tmp_path),
        c2pa_cert=str(certificates.chain),
        c2pa_key=str(certificates.key),
    )
    with LocalSlack(config, {**NAMES, "UEDITOR": "eddie"}) as workbench:
        yield workbench


def manifest_of(data: bytes) -> tuple[dict, str]:
    """The active manifest as c2pa's own Reader sees it, and its validation state."""
    with c2pa.Reader("image/png", io.BytesIO(data)) as reader:
        state = reader.get_validation_state()
        active = reader.get_active_manifest()
    assert active is not None
    return active, str(state)


def actions(manifest: dict) -> list[dict]:
    return [
        action
        for assertion in manifest["assertions"]
        if assertion["label"].startswith("c2pa.actions")
        for action in assertion["data"]["actions"]
    ]


def test_a_shipped_final_and_a_repair_carry_valid_credentials(
    signed: LocalSlack, tmp_path: Path, certificates: Certificates, capsys: pytest.CaptureFixture
) -> None:
    slack = signed.standin
    thread, numbers = to_volume(signed)
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]} {numbers[1]}", thread_ts=thread)
    signed.message(CHANNEL, thread, "Kept")

    # A repair is an edit of its parent: composite, with the parent as its ingredient.
    slack.say(OPERATOR, CHANNEL, f"fix {numbers[1]} b2 remove the sign", thread_ts=thread)
    repaired = signed.message(CHANNEL, thread, "Repaired #")
    fixed = int(str(repaired["text"]).split("#")[1].split()[0].rstrip(":."))
    service, store = signed.server.atelier.service, signed.server.atelier.store
    repair, state = manifest_of(store.get(service.image(1, fixed).file_hash))
    assert state == "Valid"
    assert [(a["action"], a.get("digitalSourceType")) for a in actions(repair)] == [
        ("c2pa.opened", None),
        ("c2pa.edited", CHANGED),
    ]
    (parent,) = repair["ingredients"]
    assert parent["relationship"] == "parentOf" and parent["title"] == f"image {numbers[1]}.png"
    # The parent's own manifest travels inside, so the chain reads back to the first render.
    assert (
        parent["active_manifest"]
        in json.loads(
            c2pa.Reader(
                "image/png", io.BytesIO(store.get(service.image(1, fixed).file_hash))
            ).json()
        )["manifests"]
    )

    # The gate says what the final's credentials are.
    walk.clear(signed, TEAM, thread, numbers[0], "A courier on a red bike at dawn.")
    gate = signed.message(CHANNEL, thread, f"Review gate: #{numbers[0]}")
    assert "Content Credentials: valid, signed by Atelier test signer" in json.dumps(gate["blocks"])

    # The ship pack's final, read with c2pa: a valid manifest saying a model made it.
    slack.say(DIRECTOR, CHANNEL, "ship", thread_ts=thread)
    _, data = pack_in_thread(signed, thread)
    pack = zipfile.ZipFile(io.BytesIO(data))
    final = pack.read(f"finals/final-{numbers[0]}.png")
    made, state = manifest_of(final)
    assert state == "Valid"  # signed and intact; "Trusted" needs the CA on a trust list
    (created,) = actions(made)
    assert created["action"] == "c2pa.created" and created["digitalSourceType"] == MADE
    assert created["softwareAgent"]["name"] == "Atelier"
    model = next(a["data"] for a in made["assertions"] if a["label"] == "org.atelier.model")
    image = service.image(1, numbers[0])
    assert model["name"] == "tiny" and model["hash"] == image.model_hash
    assert f"Seed: {image.seed}" in read_png(final)[0].text["parameters"]  # the rest unchanged
    (row,) = csv.DictReader(io.StringIO(pack.read("finals.csv").decode()))
    assert row["content_credentials"].startswith("valid, signed by Atelier test signer")

    # `atelier verify` says the same of the downloaded file, and trusted with the team's CA.
    downloaded = tmp_path / "final.png"
    downloaded.write_bytes(final)
    assert cli.main(["verify", str(downloaded)]) == 0
    said = capsys.readouterr().out
    assert "valid, signed by Atelier test signer; c2pa.created; trainedAlgorithmicMedia" in said
    assert f"model tiny ({image.model_hash[:10]})" in said


def test_an_editors_upload_names_the_original_and_the_human_edit(signed: LocalSlack) -> None:
    slack = signed.standin
    thread, numbers = to_volume(signed)
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    slack.say(OPERATOR, CHANNEL, f"handoff {numbers[0]} <@UEDITOR>", thread_ts=thread)
    signed.message(CHANNEL, thread, "is with")
    slack.upload("UEDITOR", CHANNEL, "fixed.png", png((64, 64), "teal"), thread_ts=thread)
    version = signed.message(CHANNEL, thread, "New version #")
    number = int(version["blocks"][0]["text"]["text"].split("→ #")[1].split()[0].strip("*:."))
    atelier = signed.server.atelier
    edited, state = manifest_of(atelier.store.get(atelier.service.image(1, number).file_hash))
    assert state == "Valid"
    opened, changed = actions(edited)
    assert opened["action"] == "c2pa.opened" and changed["action"] == "c2pa.edited"
    assert changed["digitalSourceType"] == CHANGED and "by a person" in changed["description"]
    assert [i["title"] for i in edited["ingredients"]] == [f"image {numbers[0]}.png"]


def test_without_a_certificate_images_carry_xmp_and_the_gate_says_so(
    local: LocalSlack, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    slack = local.standin
    thread, numbers = to_volume(local)
    slack.say(OPERATOR, CHANNEL, f"keep {numbers[0]}", thread_ts=thread)
    slack.say(DIRECTOR, CHANNEL, "skip fix nothing to repair", thread_ts=thread)
    local.message(CHANNEL, thread, "skipped the Fix-and-finish")
    slack.say(OPERATOR, CHANNEL, f"review {numbers[0]}", thread_ts=thread)
    gate = local.message(CHANNEL, thread, f"Review gate: #{numbers[0]}")
    assert "No Content Credentials" in json.dumps(gate["blocks"])
    atelier = local.server.atelier
    data = atelier.store.get(atelier.service.image(1, numbers[0]).file_hash)
    with pytest.raises(c2pa.C2paError):
        c2pa.Reader("image/png", io.BytesIO(data))
    plain = tmp_path / "plain.png"
    plain.write_bytes(data)
    assert cli.main(["verify", str(plain)]) == 1
    assert (
        "no Content Credentials (XMP marks it trainedAlgorithmicMedia)" in capsys.readouterr().out
    )


def test_verify_finds_a_changed_file_and_trusts_the_teams_ca(
    tmp_path: Path,
    certificates: Certificates,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    credentials = Credentials.configured(str(certificates.chain), str(certificates.key))
    assert credentials is not None
    made = credentials.sign(png((32, 32), "red"), {"prompt": "a red square", "seed": 1})
    good, changed = tmp_path / "good.png", tmp_path / "changed.png"
    good.write_bytes(made)
    tampered = bytearray(made)
    tampered[tampered.find(b"IDAT") + 12] ^= 0xFF  # one byte of the pixels
    changed.write_bytes(bytes(tampered))
    assert cli.main(["verify", str(good), str(changed), str(tmp_path / "missing.png")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{good}: valid, signed by Atelier test signer")
    assert lines[1].startswith(f"{changed}: invalid: ") and "mismatch" in lines[1]
    assert lines[2] == f"{tmp_path / 'missing.png'}: cannot read (No such file or directory)"
    monkeypatch.setenv("ATELIER_C2PA_TRUST", str(certificates.anchor))
    assert cli.main(["verify", str(good)]) == 0
    assert ": trusted, signed by Atelier test signer" in capsys.readouterr().out


def test_a_missing_half_or_a_wrong_key_is_said_at_start_and_none_only_warns(
    certificates: Certificates, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "atelier.credentials"):
        assert Credentials.configured(None, None) is None
    assert NO_CERTIFICATE in caplog.text
    with pytest.raises(CredentialsError, match="ATELIER_C2PA_KEY is not set"):
        Credentials.configured(str(certificates.chain), None)
    other = make_certificates(tmp_path / "other")
    with pytest.raises(CredentialsError, match="signing .not CA. certificate for this key"):
        Credentials.configured(str(certificates.chain), str(other.key))
    with pytest.raises(CredentialsError, match="cannot read"):
        Credentials.configured(str(tmp_path / "nope.pem"), str(certificates.key))
    inline = Credentials.configured(certificates.chain.read_text(), certificates.key.read_text())
    assert inline is not None  # PEM text in the variable works as well as a path
    config = replace(Config.from_env(), c2pa_key=certificates.key.read_text())
    assert certificates.key.read_text() in config.secrets()  # never logged
