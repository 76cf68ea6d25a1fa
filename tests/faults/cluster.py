"""A PostgreSQL server of the test's own (initdb in a temporary folder), so it can be restarted."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bot.workbench.local import free_port


def _bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class Cluster:
    """initdb, start, restart and stop one server on a free loopback port (trust auth)."""

    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL's initdb is not installed (apt install postgresql)")
        self.bindir = bindir
        # Under /tmp, not pytest's 0700 folder: the server may run as the postgres user.
        self.root = Path(tempfile.mkdtemp(prefix="atelier-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self.bindir / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
        )

    def _ctl(self, *action: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            *action,
        )

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """Stop fast (every open connection is cut) and start again."""
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
