"""The layout's rules, kept from regressing: no import circles, and arrows only point down.

Every import counts: at the top of a module, inside a function, and under
`TYPE_CHECKING`, because a circle held open by a lazy import is still a circle a
reader has to untangle. ARCHITECTURE.md draws the same rules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "agents", "standins")

# What each part of the project must never import (by module prefix).
_BOT_ABOVE_JOBS = ("bot.web", "bot.cli", "bot.queue")
_BOT_EDGES = ("bot.web", "bot.store", "bot.jobs", "bot.render", "bot.cli", "bot.queue")
# Below `agents.run`: the worker runs an agent through it and uses nothing under it.
_BELOW_THE_RUN = ("agents.sandbox", "agents.tools", "agents.executor", "agents.model")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "agents": ("bot", "handlers", "standins"),
    "handlers": ("bot", "standins", "agents.run", "agents.workspace", *_BELOW_THE_RUN),
    "standins": ("bot", "handlers", "agents"),
    "bot": ("standins",),
    "bot.settings": (*_BOT_EDGES, "bot.github"),
    "bot.providers": (*_BOT_EDGES, "bot.github", "bot.settings"),
    "bot.github": _BOT_EDGES,
    "bot.store": ("bot.web", "bot.jobs", "bot.render", "bot.cli", "bot.queue", "bot.github"),
    "bot.queue": ("bot.web", "bot.jobs", "bot.render", "bot.cli", "bot.github"),
    "bot.render": (*_BOT_ABOVE_JOBS, "bot.jobs", "bot.github", "bot.web"),
    "bot.web": ("bot.jobs", "bot.render", "bot.cli", "bot.queue"),
    "bot.jobs": (*_BOT_ABOVE_JOBS, *_BELOW_THE_RUN),
    # Counters and log context: told what happened, never reaching up to ask.
    "bot.observe": (*_BOT_ABOVE_JOBS, "bot.jobs", "bot.render", "bot.github"),
}
# `rolecall demo` runs the whole loop on the stand-ins: the one production module that may.
ALLOWED = {("bot.cli.demo", "standins.scenario")}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The project modules `name` imports, wherever in the file the import is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            targets = [m for m in submodules if m in known]
            if len(targets) < len(submodules):
                targets.append(base)
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports(name, path, known)) for name, path in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.get(module, ()):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def rule_broken(importer: str, imported: str) -> str | None:
    if (importer, imported) in ALLOWED:
        return None
    for part, forbidden in FORBIDDEN.items():
        if within(importer, part):
            for prefix in forbidden:
                if within(imported, prefix) and not within(importer, prefix):
                    return f"{importer} imports {imported} ({part} must not import {prefix})"
    return None


def test_no_module_imports_itself_through_a_circle() -> None:
    assert circles(import_graph()) == []


def test_imports_only_point_down() -> None:
    graph = import_graph()
    broken = [
        reason
        for importer, imported_modules in sorted(graph.items())
        for imported in sorted(imported_modules)
        if (reason := rule_broken(importer, imported)) is not None
    ]
    assert broken == []


def test_the_checks_see_a_circle_and_an_upward_import() -> None:
    """The rules above would catch what they are for (a lazy circle, a handler using I/O)."""
    graph = {"bot.queue": {"bot.jobs.worker"}, "bot.jobs.worker": {"bot.queue"}}
    assert circles(graph) == [["bot.jobs.worker", "bot.queue"]]
    assert rule_broken("handlers.issues", "bot.github.repo") is not None
    assert rule_broken("agents.run", "bot.settings") is not None
    assert rule_broken("bot.jobs.worker", "agents.sandbox.bubblewrap") is not None
    assert rule_broken("bot.jobs.worker", "agents.run") is None
    known = modules()
    lazy = list(imports("bot.cli.serve", known["bot.cli.serve"], known))
    assert "bot.jobs.worker" in lazy, "imports inside functions count"
