"""Files people share in a thread: masks for a repair, and an editor's new version of an image."""

from __future__ import annotations

import io
import urllib.parse
import urllib.request
from typing import Any

from PIL import Image, UnidentifiedImageError
from slack_sdk.errors import SlackApiError

from bot.playbook.errors import InvalidInput
from bot.slack.blocks import escape
from bot.slack.context import Atelier
from storage.content_credentials import encode
from storage.models import Project
from storage.pngs import mask_coverage, to_png

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


# Where Slack serves uploaded files (commercial and GovSlack).
SLACK_FILE_HOSTS = ("files.slack.com", "files.slack-gov.com")


def from_slack(url: str, api_url: str) -> bool:
    """A download link on Slack's file hosts over https, or on the API's own host (a stand-in)."""
    link, api = urllib.parse.urlparse(url), urllib.parse.urlparse(api_url)
    if (link.scheme, link.hostname, link.port) == (api.scheme, api.hostname, api.port):
        return True
    return link.scheme == "https" and (link.hostname or "") in SLACK_FILE_HOSTS


# PNG and JPEG, by their first bytes: what a file says its type is does not count.
MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
CHUNK = 64 * 1024


def fetch_upload(atelier: Atelier, shared: dict[str, Any], largest: tuple[int, int]) -> Image.Image:
    """Download a shared file and open it as an image, refusing what isn't one or is too large.

    The caller has authorised the person already. Size and type come from files.info before
    any download; the download stops at the byte cap; the dimensions are read from the header
    and checked against `largest` before a single pixel is decoded.
    """
    file = _info(atelier, shared)
    name = escape(file.get("name"))
    size = int(file.get("size") or 0)
    if size > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"`{name}` is {size / 1e6:.1f} MB; uploads are limited to 20 MB.")
    if (file.get("filetype") or "").lower() not in ("png", "jpg", "jpeg"):
        raise InvalidInput(f"`{name}` is not an image Atelier can read; upload a PNG or JPEG.")
    data = _download(atelier, file, name)
    if not data.startswith(MAGIC):
        raise InvalidInput(f"`{name}` is not an image Atelier can read; upload a PNG or JPEG.")
    try:
        picture = Image.open(io.BytesIO(data))  # reads the header only
        if picture.width > largest[0] or picture.height > largest[1]:
            raise InvalidInput(
                f"`{name}` is {picture.width}×{picture.height}; this project takes images up to "
                f"{largest[0]}×{largest[1]}. Export it at the image's own size."
            )
        picture.load()
    except Image.DecompressionBombError as error:
        raise InvalidInput(
            f"`{name}` claims more pixels than any image Atelier makes; export it at the image's own size."
        ) from error
    except (UnidentifiedImageError, OSError) as error:
        raise InvalidInput(
            f"`{name}` is not an image Atelier can read; upload a PNG or JPEG."
        ) from error
    return picture


def _info(atelier: Atelier, shared: dict[str, Any]) -> dict[str, Any]:
    """Slack's own record of a file (files.info), not what the event claims."""
    try:
        return dict(atelier.client.files_info(file=shared["id"])["file"])
    except (KeyError, SlackApiError) as error:
        raise InvalidInput("That file is not available to Atelier; upload it again.") from error


def _download(atelier: Atelier, file: dict[str, Any], name: str) -> bytes:
    url = file.get("url_private_download") or file.get("url_private")
    if not url:
        raise InvalidInput("That file has no download link; upload it again.")
    if not from_slack(url, atelier.client.base_url):
        raise InvalidInput(
            f"`{name}` is not on Slack's file servers; upload the file to Slack itself."
        )
    request = urllib.request.Request(url)
    # Unredirected: urllib never carries this header to wherever a redirect points.
    request.add_unredirected_header("Authorization", f"Bearer {atelier.client.token}")
    data = bytearray()
    with urllib.request.urlopen(request, timeout=30) as response:
        while chunk := response.read(CHUNK):
            data += chunk
            if len(data) > MAX_UPLOAD_BYTES:
                raise InvalidInput(f"`{name}` is over 20 MB; uploads are limited to 20 MB.")
    return bytes(data)


def mask_from_upload(
    atelier: Atelier,
    project: Project,
    user: str,
    number: int,
    files: list[dict[str, Any]],
    *,
    force: bool = False,
) -> tuple[str, float]:
    """Store the mask attached to `fix N mask`; returns its hash and the share it covers.

    Only the Director forces a repair past the regenerate rule, so `force` asks for that hat.
    """
    atelier.service.authorize(project.id, user, "force_fix" if force else "fix_image")
    if not files:
        raise InvalidInput(
            "Attach the mask image to the same message: `fix 12 mask <instruction>` with a black-and-white PNG (white = repair)."
        )
    image = atelier.service.image(project.id, number)
    mask = fetch_upload(atelier, files[0], (image.width, image.height)).convert("L")
    if mask.size != (image.width, image.height):
        raise InvalidInput(
            f"The mask is {mask.width}×{mask.height} but #{number} is {image.width}×{image.height}; make it the same size."
        )
    digest = atelier.store.put(to_png(mask.convert("RGB"), {"mask_for": number}))
    return digest, mask_coverage(mask)


def record_editor_upload(
    atelier: Atelier, project: Project, user: str, files: list[dict[str, Any]], number: int | None
) -> None:
    """A file from the assigned editor becomes the image's next version."""
    original = atelier.service.editor_image(project.id, user, number)  # refused before download
    largest = atelier.service.preset(project.model).max_size
    picture = fetch_upload(atelier, files[0], (largest, largest))
    # Only the lineage: the editor's Slack id and file name stay in Atelier, not in the PNG.
    edited = {"edited_from": original.number}
    parent = atelier.store.get(original.file_hash) if atelier.credentials else None
    png = encode(picture.convert("RGB"), edited, atelier.credentials, parent)
    digest = atelier.store.put(png)
    atelier.service.record_editor_file(
        project.id,
        user,
        file_hash=digest,
        width=picture.width,
        height=picture.height,
        number=number,
    )
