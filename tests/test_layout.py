"""The house's shape holds: small files, and imports only along the allowed arrows."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]
PRODUCT = [
    path
    for package in ("bot", "handlers", "storage")
    for path in (ROOT / package).rglob("*.py")
    if "migrations" not in path.parts and "workbench" not in path.parts
]


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (TYPE_CHECKING blocks included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_no_production_file_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in PRODUCT
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert long == {}


def test_listeners_speak_only_to_the_service_and_the_adapter() -> None:
    reaching = {
        str(path.relative_to(ROOT)): sorted(m for m in imports(path) if m.startswith("storage"))
        for path in (ROOT / "handlers").rglob("*.py")
    }
    assert {path: found for path, found in reaching.items() if found} == {}


def test_the_playbook_knows_no_slack_and_no_torch() -> None:
    banned = ("slack_bolt", "slack_sdk", "torch", "diffusers", "bot.slack", "handlers")
    reaching = {
        str(path.relative_to(ROOT)): sorted(m for m in imports(path) if m.startswith(banned))
        for path in (ROOT / "bot" / "playbook").rglob("*.py")
    }
    assert {path: found for path, found in reaching.items() if found} == {}


def test_the_product_does_not_import_the_workbench_except_the_clis_entry_points() -> None:
    reaching = sorted(
        str(path.relative_to(ROOT))
        for path in PRODUCT
        if any(m.startswith("bot.workbench") for m in imports(path))
    )
    assert reaching == ["bot/cli.py"]
    cli = (ROOT / "bot" / "cli.py").read_text()
    assert cli.count("bot.workbench") == 2  # `demo` and `shell`


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _edges(path: Path, known: set[str]) -> set[str]:
    """The product modules a file imports: `from bot.runner import models` names the module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & known
            found |= submodules or {node.module}  # `from pkg import mod` imports mod, not pkg
    return {name for name in found if name in known} - {_module(path)}


def import_circles() -> list[list[str]]:
    """Every strongly connected group of product modules (Tarjan), TYPE_CHECKING and imports
    inside functions included: a circle hidden from the interpreter is still one to a reader."""
    graph = {_module(path): path for path in PRODUCT}
    edges = {name: _edges(path, set(graph)) for name, path in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for other in sorted(edges[name]):
            if other not in index:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in stack:
                low[name] = min(low[name], index[other])
        if low[name] == index[name]:
            group = []
            while (top := stack.pop()) != name:
                group.append(top)
            if group:
                circles.append(sorted([name, *group]))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return circles


def test_the_house_has_no_import_circles() -> None:
    assert import_circles() == []


def test_the_slack_adapter_and_the_playbook_never_import_the_runner() -> None:
    reaching = {
        str(path.relative_to(ROOT)): sorted(m for m in imports(path) if m.startswith("bot.runner"))
        for package in ("bot/slack", "bot/playbook", "handlers")
        for path in (ROOT / package).rglob("*.py")
    }
    assert {path: found for path, found in reaching.items() if found} == {}
