"""The content-addressed image store under concurrent writers."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from storage.files import ImageStore


def test_many_writers_of_the_same_image_all_succeed(tmp_path: Path) -> None:
    data = b"\x89PNG" + bytes(range(256)) * 16384
    stores = [ImageStore(str(tmp_path / "store")) for _ in range(8)]  # as if 8 processes
    for _ in range(50):
        with ThreadPoolExecutor(max_workers=8) as pool:
            digests = set(pool.map(lambda store: store.put(data), stores))
        assert digests == {hashlib.sha256(data).hexdigest()}
        (path,) = (tmp_path / "store").rglob("*.png")
        assert path.read_bytes() == data
        path.unlink()
    assert not list((tmp_path / "store").rglob("*.partial"))
