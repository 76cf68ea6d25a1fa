"""Content-addressed image store: a local folder or an object store (`s3://bucket/prefix`).

Every runner and every serve process shares one. A reader never sees half an image: a folder
gets a file under a name of the writer's own, renamed into place; an object store makes an
object visible only once its upload is whole, so it is written at its key directly. Reads
stream (a ship pack copies finals through `open`, never whole). Any failure of the store
becomes a StoreError that says where and why, so only the jobs that need it fail.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

PIECE = 1 << 20  # what a streamed copy holds in memory at a time


class StoreError(RuntimeError):
    """The image store could not be read or written; the message says where and why."""


def _options(root: str) -> dict[str, Any]:
    """How to reach an object store: the standard AWS variables, and short timeouts.

    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION are read by botocore
    itself; AWS_ENDPOINT_URL (an S3-compatible server) is passed on explicitly. An unreachable
    store should fail a job in seconds, not after botocore's minute of retries.
    """
    if not root.startswith(("s3://", "s3a://")):
        return {}
    client: dict[str, Any] = {}
    if os.environ.get("AWS_ENDPOINT_URL"):
        client["endpoint_url"] = os.environ["AWS_ENDPOINT_URL"]
    if os.environ.get("AWS_DEFAULT_REGION"):
        client["region_name"] = os.environ["AWS_DEFAULT_REGION"]
    return {
        "client_kwargs": client,
        "config_kwargs": {
            "connect_timeout": 5,
            "read_timeout": 30,
            "retries": {"max_attempts": 2, "mode": "standard"},
        },
        "skip_instance_cache": True,
        "use_listings_cache": False,  # another host may have written it since
    }


try:  # an object store's client errors that are not OSErrors (an endpoint that is down)
    from botocore.exceptions import BotoCoreError

    FAILURES: tuple[type[BaseException], ...] = (OSError, BotoCoreError)
except ImportError:  # no s3 extra: only folders and fsspec's own filesystems
    FAILURES = (OSError,)


def _filesystem(root: str) -> tuple[fsspec.AbstractFileSystem, str]:
    try:
        return fsspec.core.url_to_fs(root, **_options(root))
    except ImportError as error:
        raise StoreError(
            f"ATELIER_IMAGE_STORE is {root}, which needs a package that is not installed "
            f"({error}); for s3:// install Atelier's s3 extra: pip install -e '.[s3]'"
        ) from error


class ImageStore:
    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.fs, self.base = _filesystem(self.root)
        # An object store shows an object only once its upload is whole: write at the key.
        self.renames = isinstance(self.fs, LocalFileSystem)

    def _path(self, digest: str) -> str:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise StoreError(f"not a sha256 digest: {digest[:80]!r}")
        return f"{self.base}/{digest[:2]}/{digest}.png"

    def put(self, data: bytes) -> str:
        """Store bytes under their sha256; writing the same content twice is a no-op."""
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        try:
            if self.fs.exists(path):
                return digest
            if not self.renames:
                self.fs.pipe_file(path, data)
                return digest
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            # A name of this writer's own: two runners storing the same image never share one.
            partial = f"{path}.{uuid.uuid4().hex}.partial"
            try:
                with self.fs.open(partial, "wb") as handle:
                    handle.write(data)
                self.fs.mv(partial, path)
            except FAILURES:
                self._discard(partial)  # a full disk leaves no half-written file behind
                raise
        except FAILURES as error:
            raise self._failed("write to", error) from error
        return digest

    def _failed(self, doing: str, error: BaseException) -> StoreError:
        """Where and why; a refusal says which credentials the store was given."""
        said = f"cannot {doing} the image store {self.root}: {error}"
        if isinstance(error, PermissionError) and not self.renames:
            said += " (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's policy)"
        return StoreError(said)

    def _discard(self, partial: str) -> None:
        try:
            if self.fs.exists(partial):
                self.fs.rm(partial)
        except FAILURES:
            pass  # the store is failing already; the caller reports that

    @contextmanager
    def open(self, digest: str) -> Iterator[IO[bytes]]:
        """A stored file to stream from (a ship pack copies finals through it, never whole)."""
        try:
            handle = self.fs.open(self._path(digest), "rb", block_size=PIECE)
        except FileNotFoundError as error:
            raise StoreError(f"image {digest[:12]} is not in the store {self.root}") from error
        except FAILURES as error:
            raise self._failed("read", error) from error
        with handle:
            yield handle

    def put_path(self, folder: str, name: str, source: Path) -> str:
        """A named file beside the images, copied from a local file in pieces; returns where.

        A reader never sees half of it (a folder: written under a temporary name and moved into
        place; an object store: uploaded in parts that become the object only when complete),
        and a pack written again for the same project replaces the one before.
        """
        path = f"{self.base}/{folder}/{name}"
        partial = f"{path}.{uuid.uuid4().hex}.partial"
        try:
            if not self.renames:
                self.fs.put_file(str(source), path, chunksize=PIECE * 8)
                return f"{self.root}/{folder}/{name}"
            self.fs.makedirs(f"{self.base}/{folder}", exist_ok=True)
            with source.open("rb") as reader, self.fs.open(partial, "wb") as writer:
                shutil.copyfileobj(reader, writer, PIECE)
            self.fs.mv(partial, path)
        except FAILURES as error:
            if self.renames:  # an object store never had a partial object to remove
                self._discard(partial)
            raise self._failed("write to", error) from error
        return f"{self.root}/{folder}/{name}"

    def get(self, digest: str) -> bytes:
        with self.open(digest) as handle:
            try:
                return bytes(handle.read())
            except FAILURES as error:
                raise self._failed("read", error) from error

    def exists(self, digest: str) -> bool:
        try:
            return bool(self.fs.exists(self._path(digest)))
        except FAILURES as error:
            raise self._failed("read", error) from error
