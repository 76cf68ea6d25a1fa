"""Content-addressed image store: a local folder or any fsspec URL shared by runners."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import fsspec

PIECE = 1 << 20  # what a streamed copy holds in memory at a time


class StoreError(RuntimeError):
    """The image store could not be read or written; the message says where and why."""


class ImageStore:
    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.fs, self.base = fsspec.core.url_to_fs(self.root)

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
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            # A name of this writer's own: two runners storing the same image never share one.
            partial = f"{path}.{uuid.uuid4().hex}.partial"
            try:
                with self.fs.open(partial, "wb") as handle:
                    handle.write(data)
                self.fs.mv(partial, path)
            except OSError:
                self._discard(partial)  # a full disk leaves no half-written file behind
                raise
        except OSError as error:
            raise StoreError(f"cannot write to the image store {self.root}: {error}") from error
        return digest

    def _discard(self, partial: str) -> None:
        try:
            if self.fs.exists(partial):
                self.fs.rm(partial)
        except OSError:
            pass  # the store is failing already; the caller reports that

    @contextmanager
    def open(self, digest: str) -> Iterator[IO[bytes]]:
        """A stored file to stream from (a ship pack copies finals through it, never whole)."""
        try:
            handle = self.fs.open(self._path(digest), "rb")
        except FileNotFoundError as error:
            raise StoreError(f"image {digest[:12]} is not in the store {self.root}") from error
        except OSError as error:
            raise StoreError(f"cannot read the image store {self.root}: {error}") from error
        with handle:
            yield handle

    def put_path(self, folder: str, name: str, source: Path) -> str:
        """A named file beside the images, copied from a local file in pieces; returns where.

        Written under a temporary name and moved into place: a reader never sees half of it,
        and a pack written again for the same project replaces the one before.
        """
        path = f"{self.base}/{folder}/{name}"
        partial = f"{path}.{uuid.uuid4().hex}.partial"
        try:
            self.fs.makedirs(f"{self.base}/{folder}", exist_ok=True)
            with source.open("rb") as reader, self.fs.open(partial, "wb") as writer:
                shutil.copyfileobj(reader, writer, PIECE)
            self.fs.mv(partial, path)
        except OSError as error:
            self._discard(partial)
            raise StoreError(f"cannot write to the image store {self.root}: {error}") from error
        return f"{self.root}/{folder}/{name}"

    def get(self, digest: str) -> bytes:
        try:
            with self.fs.open(self._path(digest), "rb") as handle:
                return bytes(handle.read())
        except FileNotFoundError as error:
            raise StoreError(f"image {digest[:12]} is not in the store {self.root}") from error
        except OSError as error:
            raise StoreError(f"cannot read the image store {self.root}: {error}") from error

    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self._path(digest)))
