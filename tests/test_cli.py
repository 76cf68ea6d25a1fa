"""The `atelier` command as a person runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.playbook.service import PlaybookService
from storage.db import make_engine, make_sessions, migrate


def atelier(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = atelier("--help", env={})
    assert result.returncode == 0
    for command in ("migrate", "export", "runner"):
        assert command in result.stdout


def test_migrate_then_export_a_project(tmp_path: Path) -> None:
    env = {"ATELIER_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"}
    assert "newest schema" in atelier("migrate", env=env).stdout
    engine = make_engine(env["ATELIER_DATABASE_URL"])
    migrate(engine)
    project = (
        PlaybookService(make_sessions(engine)).start_project("C1", "U1", "Art for spring.").project
    )
    result = atelier("export", str(project.id), "--out", str(tmp_path / "p.json"), env=env)
    assert result.returncode == 0, result.stderr
    assert "0 recipe cards" in result.stdout
    assert json.loads((tmp_path / "p.json").read_text())["project"]["intent"] == "Art for spring."
    missing = atelier("export", "999", env=env)
    assert missing.returncode == 2 and "There is no project 999" in missing.stderr
