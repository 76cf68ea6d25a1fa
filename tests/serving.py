"""Starting a real `atelier serve --http` process for a test, and knowing when it is up."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from typing import IO

from bot.local import LocalSlack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthz(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return None


def serve(
    env: dict[str, str], port: int, *extra: str, output: IO[str] | None = None
) -> subprocess.Popen[bytes]:
    """`atelier serve --http` on 127.0.0.1:port; returns once /healthz answers."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "serve",
            "--http",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            *extra,
        ],
        env=env,
        stdout=output or subprocess.DEVNULL,
        stderr=output or subprocess.PIPE,
    )
    LocalSlack.wait(lambda: healthz(port), 60, "/healthz")
    return process
