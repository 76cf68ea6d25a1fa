"""The image store on a real S3-compatible server (SeaweedFS, started here on loopback ports)."""

from __future__ import annotations

import hashlib
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from storage.files import PIECE, ImageStore, StoreError
from tests.seaweed import BUCKET, Seaweed, seaweed


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    with seaweed(tmp_path_factory.mktemp("seaweed")) as running:
        yield running


@pytest.fixture
def s3_env(server: Seaweed, monkeypatch: pytest.MonkeyPatch) -> Seaweed:
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    return server


def _keys(store: ImageStore) -> list[str]:
    return [str(path) for path in store.fs.find(store.base)]


def test_images_round_trip_and_many_writers_leave_one_object(s3_env: Seaweed) -> None:
    store = ImageStore(f"s3://{BUCKET}/round-trip")
    data = b"\x89PNG" + bytes(range(256)) * 4096
    stores = [ImageStore(f"s3://{BUCKET}/round-trip") for _ in range(6)]  # as if 6 processes
    with ThreadPoolExecutor(max_workers=6) as pool:
        digests = set(pool.map(lambda each: each.put(data), stores))
    assert digests == {hashlib.sha256(data).hexdigest()}
    (digest,) = digests
    assert store.exists(digest) and store.get(digest) == data
    with store.open(digest) as handle:
        assert handle.read(4) == b"\x89PNG"
    assert _keys(store) == [f"{BUCKET}/round-trip/{digest[:2]}/{digest}.png"]
    with pytest.raises(StoreError, match="is not in the store s3://atelier/round-trip"):
        store.get("0" * 64)


def test_a_large_file_is_never_seen_half_written_and_reads_stream(
    s3_env: Seaweed, tmp_path: Path
) -> None:
    store = ImageStore(f"s3://{BUCKET}/packs")
    source = tmp_path / "pack.zip"
    source.write_bytes(bytes(range(256)) * (96 * 4096))  # 96 MiB: a multipart upload
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if store.fs.exists(f"{store.base}/ship-packs/pack.zip"):
                seen.append(store.fs.size(f"{store.base}/ship-packs/pack.zip"))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        where = store.put_path("ship-packs", "pack.zip", source)
    finally:
        done.set()
        watcher.join()
    assert where == f"s3://{BUCKET}/packs/ship-packs/pack.zip"
    assert set(seen) <= {source.stat().st_size}  # absent, or whole
    assert _keys(store) == [f"{BUCKET}/packs/ship-packs/pack.zip"]
    # A stored image is read in pieces, never whole (a ship pack copies finals through it).
    digest = store.put(source.read_bytes()[: 24 << 20])
    tracemalloc.start()
    with store.open(digest) as handle:
        total = sum(len(piece) for piece in iter(lambda: handle.read(PIECE), b""))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert total == 24 << 20
    assert peak < 8 << 20, f"reading 24 MiB held {peak >> 20} MiB at once"


def test_a_store_that_is_down_or_refuses_says_so_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with seaweed(tmp_path / "seaweed") as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        store = ImageStore(f"s3://{BUCKET}/outage")
        assert store.exists(store.put(b"before"))
        server.stop()
        began = time.monotonic()
        with pytest.raises(StoreError, match="cannot write to the image store s3://atelier/outage"):
            store.put(b"during")
        assert time.monotonic() - began < 30  # seconds, not botocore's minutes of retries
        server.start()
        assert store.get(store.put(b"after")) == b"after"
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key")
        with pytest.raises(StoreError, match="Forbidden.*check AWS_ACCESS_KEY_ID"):
            ImageStore(f"s3://{BUCKET}/outage").put(b"refused")


def test_an_s3_store_without_the_s3_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fsspec

    def missing(*_args: object, **_kwargs: object) -> object:
        raise ImportError("Install s3fs to access S3")

    monkeypatch.setattr(fsspec.core, "url_to_fs", missing)
    with pytest.raises(StoreError, match=r"pip install -e '\.\[s3\]'"):
        ImageStore("s3://bucket/atelier")
