"""Content Credentials (C2PA): a signed manifest in each PNG saying a model made it, and how.

XMP (`storage.pngs.xmp`) marks every image, certificate or not; a manifest adds what XMP cannot:
a signature a reader can check, the actions (made, or changed from a parent), the model and its
hash, and the parent itself as an ingredient, so provenance survives a download. It is signed
with the team's own certificate (ATELIER_C2PA_CERT / ATELIER_C2PA_KEY); without one Atelier
writes no manifest and says so once at start.
"""

from __future__ import annotations

import io
import json
import logging
import os
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import IO, Any

import c2pa
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from PIL import Image

from storage.pngs import COMPOSITE, DIGITAL_SOURCE, GENERATED, source_type, to_png

log = logging.getLogger("atelier.credentials")

PNG = "image/png"
MODEL_ASSERTION = "org.atelier.model"  # the model's name and hash, and the LoRAs applied
NO_CERTIFICATE = (
    "Content Credentials are off: set ATELIER_C2PA_CERT and ATELIER_C2PA_KEY (PEM) to sign "
    "images (README: Content Credentials). Images still carry the XMP marking."
)


def _software() -> dict[str, str]:
    try:
        release = version("atelier")
    except PackageNotFoundError:  # running from a checkout that was never installed
        release = "unknown"
    return {"name": "Atelier", "version": release}


SOFTWARE = _software()


class CredentialsError(ValueError):
    """The certificate or key could not be used; the message says which and what to do."""


def _pem(value: str, name: str) -> bytes:
    """A PEM given inline (`-----BEGIN …`) or as a file path."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    try:
        with open(value, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise CredentialsError(f"{name}: cannot read {value} ({error.strerror}).") from None


def _algorithm(key_pem: bytes) -> c2pa.C2paSigningAlg:
    """C2PA's algorithm for the key: ES256/384/512 by curve, PS256 for RSA, Ed25519."""
    try:
        key = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as error:
        raise CredentialsError("ATELIER_C2PA_KEY is not an unencrypted PEM private key.") from error
    if isinstance(key, ec.EllipticCurvePrivateKey):
        by_curve = {256: "ES256", 384: "ES384", 521: "ES512"}
        return c2pa.C2paSigningAlg[by_curve.get(key.curve.key_size, "ES256")]
    if isinstance(key, rsa.RSAPrivateKey):
        return c2pa.C2paSigningAlg.PS256
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return c2pa.C2paSigningAlg.ED25519
    raise CredentialsError("ATELIER_C2PA_KEY: use an EC (P-256/384/521), RSA or Ed25519 key.")


class Credentials:
    """The team's signing certificate chain and key; `sign` adds a manifest to a PNG."""

    def __init__(self, cert_pem: bytes, key_pem: bytes) -> None:
        self.cert_pem = cert_pem
        self.key_pem = key_pem
        self.algorithm = _algorithm(key_pem)
        # No thumbnails: our images are small already, and a JPEG of a noisy render costs
        # 80 ms and 600 KB where the manifest alone costs 4 ms and 3 KB (measured, #23).
        self._settings = {"builder": {"thumbnail": {"enabled": False}}}
        self.sign(_probe_png(), {"prompt": "probe"})  # a bad chain fails here, at start

    @classmethod
    def configured(cls, cert: str | None, key: str | None) -> Credentials | None:
        """From ATELIER_C2PA_CERT / _KEY (PEM text or paths); None, with a warning, when unset."""
        if not cert and not key:
            log.warning(NO_CERTIFICATE)
            return None
        if not cert or not key:
            missing = "ATELIER_C2PA_KEY" if cert else "ATELIER_C2PA_CERT"
            raise CredentialsError(f"{missing} is not set; Content Credentials need both.")
        try:
            return cls(_pem(cert, "ATELIER_C2PA_CERT"), _pem(key, "ATELIER_C2PA_KEY"))
        except c2pa.C2paError as error:
            raise CredentialsError(
                "ATELIER_C2PA_CERT / ATELIER_C2PA_KEY could not sign: the certificate must be a "
                "signing (not CA) certificate for this key, followed by its issuers, in PEM. "
                f"({type(error).__name__})"
            ) from None

    def sign(self, png: bytes, params: dict[str, Any], parent: bytes | None = None) -> bytes:
        """The PNG with a signed manifest; `parent` (a PNG) becomes its ingredient."""
        source = source_type(params)
        if source is None:  # a mask is not a picture anyone sees
            return png
        signer = c2pa.Signer.from_info(
            c2pa.C2paSignerInfo(self.algorithm, self.cert_pem, self.key_pem, None)
        )
        builder = c2pa.Builder(
            manifest(params, source, parent is not None),
            c2pa.Context(c2pa.Settings.from_dict(self._settings)),
        )
        if parent is not None:
            ingredient = {"title": _title(params, parent=True), "relationship": _relation(params)}
            builder.add_ingredient({**ingredient, "label": "parent"}, PNG, io.BytesIO(parent))
        signed = io.BytesIO()
        builder.sign(signer, PNG, io.BytesIO(png), signed)
        return signed.getvalue()


def encode(
    image: Image.Image,
    params: dict[str, Any],
    credentials: Credentials | None,
    parent: bytes | None = None,
) -> bytes:
    """`to_png`, then signed when the team has credentials: how every posted image is written."""
    png = to_png(image, params)
    return credentials.sign(png, params, parent) if credentials else png


def _probe_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


# ---- what the manifest says ------------------------------------------------------------------

# What a picture with a parent was made from it by; a re-roll only shares its prompt and card.
_FROM_PARENT = ("parent", "varied_from", "upscaled_from", "edited_from")


def _relation(params: dict[str, Any]) -> str:
    return "parentOf" if _from_parent(params) else "componentOf"


def _from_parent(params: dict[str, Any]) -> str | None:
    """How a picture was made from its parent's pixels, if it was (a re-roll was not)."""
    return next((key for key in _FROM_PARENT if key in params), None)


def _title(params: dict[str, Any], *, parent: bool = False) -> str:
    number = params.get(_from_parent(params) or "rerolled_from") if parent else None
    return f"image {number}.png" if number is not None else "image.png"


_DESCRIPTIONS = {
    "parent": "A region repaired by the model; the rest is the parent's.",
    "varied_from": "A variation: the parent re-rendered by the model from its pixels.",
    "upscaled_from": "The parent enlarged by the model.",
    "edited_from": "Edited by a person outside Atelier and uploaded as a new version.",
    "contact_sheet_of": "A contact sheet of the project's images.",
    "compares": "Two versions side by side with a map of what changed.",
    "recipe_library": "The channel's recipe cards side by side.",
    "pins_on": "The image with the regions a Reviewer pinned outlined.",
    "held": "An image held back by the model's safety checker, blurred.",
}


def _actions(params: dict[str, Any], source: str, has_parent: bool) -> list[dict[str, Any]]:
    key = _from_parent(params) if has_parent else None
    if key is None:
        made = {"action": "c2pa.created", "digitalSourceType": DIGITAL_SOURCE + source}
        described = next((k for k in _DESCRIPTIONS if k in params), None)
        if described:
            made["description"] = _DESCRIPTIONS[described]
        return [{**made, "softwareAgent": SOFTWARE}]
    changed: dict[str, Any] = {"action": "c2pa.edited", "description": _DESCRIPTIONS[key]}
    if key == "edited_from":
        changed["digitalSourceType"] = DIGITAL_SOURCE + COMPOSITE  # a person's hand, on AI
    else:
        changed["digitalSourceType"] = DIGITAL_SOURCE + (
            COMPOSITE if key == "parent" else GENERATED
        )
        changed["softwareAgent"] = SOFTWARE
    opened = {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}}
    return [opened, changed]


def manifest(params: dict[str, Any], source: str, has_parent: bool = False) -> dict[str, Any]:
    """The manifest's definition: who made it, the actions, and the model that drew it."""
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions.v2", "data": {"actions": _actions(params, source, has_parent)}}
    ]
    if params.get("model_id"):
        model = {"name": params["model_id"], "hash": params.get("model_hash") or ""}
        loras = [{"name": x[0], "weight": x[1], "hash": x[2]} for x in params.get("loras") or []]
        assertions.append({"label": MODEL_ASSERTION, "data": {**model, "loras": loras}})
    return {
        "claim_generator_info": [SOFTWARE],
        "title": _title(params),
        "format": PNG,
        "assertions": assertions,
    }


# ---- reading them back -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a file's credentials say. `state`: trusted, valid, invalid, or none."""

    state: str
    signer: str = ""
    source: str = ""  # the digital source type's code (trainedAlgorithmicMedia, …)
    actions: tuple[str, ...] = ()
    model: str = ""
    parent: str = ""  # the parent ingredient's title, when there is one
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state in ("valid", "trusted")

    def summary(self) -> str:
        """One line for a person (verify, finals.csv, the gate)."""
        if self.state == "none":
            return "none"
        if not self.ok:
            return "invalid: " + ", ".join(self.problems)
        parts = [f"{self.state}, signed by {self.signer}", ", ".join(self.actions), self.source]
        parts += [f"model {self.model}"] if self.model else []
        parts += [f"from {self.parent}"] if self.parent else []
        return "; ".join(p for p in parts if p)


def trust_anchors() -> str | None:
    """ATELIER_C2PA_TRUST: PEM certificates whose signatures count as trusted, not just valid."""
    configured = os.environ.get("ATELIER_C2PA_TRUST")
    return _pem(configured, "ATELIER_C2PA_TRUST").decode() if configured else None


def verify(data: bytes | IO[bytes], anchors: str | None = None) -> Verdict:
    """Read and validate the manifest in a PNG (bytes or an open file); never raises for
    what a file holds."""
    context = None
    if anchors:
        settings = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": anchors}}
        context = c2pa.Context(c2pa.Settings.from_dict(settings))
    try:
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        reader = c2pa.Reader.try_create(PNG, stream, None, context)
    except c2pa.C2paError as error:
        return Verdict("invalid", problems=(type(error).__name__.strip("_"),))
    if reader is None:
        return Verdict("none")
    with reader:
        return _verdict(reader, json.loads(reader.json()), anchors is not None)


def _verdict(reader: c2pa.Reader, store: dict[str, Any], anchored: bool) -> Verdict:
    active = store["manifests"][store["active_manifest"]]
    results = (reader.get_validation_results() or {}).get("activeManifest") or {}
    ignore = set() if anchored else {"signingCredential.untrusted"}
    problems = tuple(p["code"] for p in results.get("failure", []) if p["code"] not in ignore)
    state = (reader.get_validation_state() or "").lower()
    if problems or state not in ("valid", "trusted"):
        return Verdict("invalid", problems=problems or (state,))
    actions = [
        a
        for assertion in active.get("assertions", [])
        if assertion["label"].startswith("c2pa.actions")
        for a in assertion["data"]["actions"]
    ]
    models = [a["data"] for a in active.get("assertions", []) if a["label"] == MODEL_ASSERTION]
    parents = active.get("ingredients", [])  # the parent, or a re-roll's original
    sources = [a["digitalSourceType"] for a in actions if a.get("digitalSourceType")]
    return Verdict(
        state,
        signer=active.get("signature_info", {}).get("common_name", ""),
        source=sources[-1].rsplit("/", 1)[-1] if sources else "",
        actions=tuple(a["action"] for a in actions),
        model=" ".join(
            f"{m['name']} ({m['hash'][:10]})" if m.get("hash") else m["name"] for m in models
        ),
        parent=parents[0].get("title", "") if parents else "",
    )
