"""Files people share in a thread: masks for a repair, and an editor's new version of an image."""

from __future__ import annotations

import io
import urllib.parse
import urllib.request
from typing import Any

from PIL import Image, UnidentifiedImageError

from bot.playbook.errors import InvalidInput
from bot.slack.blocks import escape
from bot.slack.context import Atelier
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


def fetch_upload(atelier: Atelier, file: dict[str, Any]) -> Image.Image:
    """Download a file someone shared and open it as an image, refusing what isn't one."""
    size = int(file.get("size") or 0)
    if size > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"`{escape(file.get('name'))}` is {size / 1e6:.1f} MB; uploads are limited to 20 MB."
        )
    url = file.get("url_private_download") or file.get("url_private")
    if not url:
        raise InvalidInput("That file has no download link; upload it again.")
    if not from_slack(url, atelier.client.base_url):
        raise InvalidInput(
            f"`{escape(file.get('name'))}` is not on Slack's file servers; upload the file to Slack itself."
        )
    request = urllib.request.Request(url)
    # Unredirected: urllib never carries this header to wherever a redirect points.
    request.add_unredirected_header("Authorization", f"Bearer {atelier.client.token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        data = response.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"`{escape(file.get('name'))}` is over 20 MB; uploads are limited to 20 MB."
        )
    try:
        picture = Image.open(io.BytesIO(data))
        picture.load()
    except (UnidentifiedImageError, OSError) as error:
        raise InvalidInput(
            f"`{escape(file.get('name'))}` is not an image Atelier can read; upload a PNG or JPEG."
        ) from error
    return picture


def mask_from_upload(
    atelier: Atelier, project: Project, number: int, files: list[dict[str, Any]]
) -> tuple[str, float]:
    """Store the mask attached to `fix N mask`; returns its hash and the share it covers."""
    if not files:
        raise InvalidInput(
            "Attach the mask image to the same message: `fix 12 mask <instruction>` with a black-and-white PNG (white = repair)."
        )
    mask = fetch_upload(atelier, files[0]).convert("L")
    image = atelier.service.image(project.id, number)
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
    picture = fetch_upload(atelier, files[0])
    original = atelier.service.image(project.id, number) if number else None
    # Only the lineage: the editor's Slack id and file name stay in Atelier, not in the PNG.
    params = {"edited_from": original.number if original else None}
    digest = atelier.store.put(to_png(picture.convert("RGB"), params))
    atelier.service.record_editor_file(
        project.id,
        user,
        file_hash=digest,
        width=picture.width,
        height=picture.height,
        number=number,
    )
