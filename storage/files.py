"""Content-addressed image store: a local folder or any fsspec URL shared by runners."""

from __future__ import annotations

import hashlib
import uuid

import fsspec


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

    def put_file(self, folder: str, name: str, data: bytes) -> str:
        """A named file beside the images (a ship pack too big for Slack); returns where it is."""
        path = f"{self.base}/{folder}/{name}"
        try:
            self.fs.makedirs(f"{self.base}/{folder}", exist_ok=True)
            with self.fs.open(path, "wb") as handle:
                handle.write(data)
        except OSError as error:
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
