"""`rolecall roles list | show | check`: see which roles a repository gets, and lint role files.

Role files are written far from Rolecall (in an editor, for Claude Code or Copilot), so
the first time their author learns that `problems` is not a tool here, or that a model
name means nothing to us, should be on their own machine, not in a failed job. These
commands read the working tree with exactly the parser the worker uses.

`bot/cli/main.py` calls `register(subparsers)`; every sub-command sets `func(args) -> int`,
the process exit code.
"""

from __future__ import annotations

import argparse
import bisect
import json
import re
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from agents.roles.loader import (
    BUILTIN_SOURCE,
    CREDENTIAL_WARNING,
    ROLE_DIRS,
    Role,
    RoleError,
    builtin_roles,
    discover_roles,
    load_role_file,
    precedence_of,
)
from agents.text.redact import REDACTED, secret_spans
from bot.cli.role_runtime import (
    price_warning,
    resolve_role_model,
    runtime_offer,
    worker_default_model,
)
from bot.providers import BUILTIN_PROVIDERS, provider_names
from bot.settings import SettingsError, get_settings
from handlers.config import CONFIG_PATH
from handlers.config_checks import review_config

CREDENTIAL_HINT = (
    "holds a credential (redacted wherever Rolecall posts it; move it to a secret store)"
)
# A line quoted in a problem is cut to this many characters.
MAX_SHOWN_LINE = 160
CONFIG_NAME = CONFIG_PATH.rsplit("/", 1)[-1]
# A common misspelling the worker names too (bot.jobs.setup), rather than ignoring it.
MISSPELT_CONFIG_NAME = "rolecall.yaml"
# How `roles check` marks what is worth knowing but not wrong with the file: the role
# still runs, only not quite as written (see bot/cli/role_runtime.py).
WARNING = "warning: "


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `roles` and its sub-commands to the top-level `rolecall` parser."""
    roles = subparsers.add_parser(
        "roles",
        help="list, show and check agent role files",
        description="Inspect the roles Rolecall would run for a repository.",
    )
    roles.set_defaults(func=lambda args: _usage(roles))
    commands = roles.add_subparsers(dest="roles_command", metavar="{list,show,check}")

    listing = commands.add_parser(
        "list",
        help="the roles a repository checkout gets, with precedence and shadowing",
        description=(
            f"List the roles from {', '.join(ROLE_DIRS)} and the built-ins, "
            "highest precedence first, as read from the working tree."
        ),
    )
    listing.add_argument("--repo", type=Path, default=Path("."), help="checkout (default: .)")
    listing.set_defaults(func=run_list)

    show = commands.add_parser(
        "show",
        help="one role file as Rolecall parses it",
        description="Show a role file (or a built-in role by name) as Rolecall parses it.",
    )
    show.add_argument("file", help="a role file, or the name of a built-in role")
    show.add_argument("--json", action="store_true", help="one JSON object")
    show.set_defaults(func=run_show)

    check = commands.add_parser(
        "check",
        help=f"lint role files and {CONFIG_PATH}; exit 1 when anything is wrong",
        description=(
            "Check role files, directories of them, repository roots or a "
            f"{CONFIG_PATH} (default: this repository's {', '.join(ROLE_DIRS)} and "
            f"{CONFIG_PATH}). One line per problem; a repository's {CONFIG_PATH} is checked "
            "against the roles that repository has, every problem at once, in line order."
        ),
    )
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    check.set_defaults(func=run_check)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# ---- list --------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    """Print the roles the checkout at `--repo` would get, as the worker would compute them."""
    repo: Path = args.repo
    if not repo.is_dir():
        print(f"{repo}: not a directory", file=sys.stderr)
        return 2
    files, unreadable = _read_role_dirs(repo)
    role_set = discover_roles(files)
    default = worker_default_model()
    rows = [["ROLE", "PRECEDENCE", "SOURCE", "WRITES", "MODEL", "WARNINGS"]]
    for role in role_set.roles:
        rows.append(
            [
                role.name,
                _precedence_label(role.source),
                role.source,
                "yes" if role.can_write else "no",
                _model_label(role, default),
                str(len(role.warnings)) if role.warnings else "",
            ]
        )
    print("Roles, highest precedence first:")
    for line in _table(rows):
        print("  " + line)
    if role_set.shadowed:
        print("Shadowed (the first source wins):")
        for shadow in role_set.shadowed:
            print(f"  {shadow.name}: {shadow.winner} hides {shadow.loser}")
    errors = [*unreadable, *((error.path, error.reason) for error in role_set.errors)]
    if errors:
        print("Skipped (cannot be read):")
        for path, reason in errors:
            print(f"  {path}: {reason}")
    return 0


def _read_role_dirs(repo: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Role files under the checkout's agent directories, keyed by repo-relative path."""
    files: dict[str, str] = {}
    unreadable: list[tuple[str, str]] = []
    for directory in ROLE_DIRS:
        for path in _role_files_in(repo / directory, unreadable, relative_to=repo):
            relative = path.relative_to(repo).as_posix()
            try:
                files[relative] = path.read_bytes().decode("utf-8", errors="replace")
            except OSError as exc:
                unreadable.append((relative, f"cannot read the file: {exc.strerror or exc}"))
    return files, unreadable


def _role_files_in(
    directory: Path, problems: list[tuple[str, str]], *, relative_to: Path | None = None
) -> list[Path]:
    """The `*.md` files directly in `directory` (not README.md), sorted; symlinks are reported.

    Symlinks are not followed: in a repository they are blobs holding a path, and the
    worker reads role files from git, so following them here would show roles it never runs.
    """
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.iterdir()):
        if not path.name.endswith(".md") or path.name.lower() == "readme.md":
            continue
        shown = path.relative_to(relative_to).as_posix() if relative_to else str(path)
        if path.is_symlink():
            problems.append((shown, "is a symbolic link; role files must be regular files"))
        elif path.is_file():
            found.append(path)
    return found


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _precedence_label(source: str) -> str:
    """`1 .github/chatmodes`: the tier a role's file puts it in, and the folder it is in."""
    tier = precedence_of(source)
    if tier is None:
        return "?"
    folder = "built-in" if source == BUILTIN_SOURCE else PurePosixPath(source).parent.as_posix()
    return f"{tier + 1} {folder}"


def _model_label(role: Role, default: str) -> str:
    try:
        choice = resolve_role_model(role.model, default)
    except ValueError as exc:
        return f"? ({exc})"
    return f"{choice.provider},{choice.id}"


# ---- show --------------------------------------------------------------------------------


def run_show(args: argparse.Namespace) -> int:
    """Print one role as parsed: JSON with `--json`, else `key: value` lines."""
    target = Path(args.file)
    if target.exists():
        try:
            role = load_role_file(target)
        except RoleError as exc:
            print(f"{target}: {exc.reason}", file=sys.stderr)
            return 1
    else:
        found = next((role for role in builtin_roles() if role.name == args.file), None)
        if found is None:
            print(f"{target}: no such file, and no built-in role of that name", file=sys.stderr)
            return 1
        role = found
    data = role_as_json(role, worker_default_model())
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    for key, value in data.items():
        if key == "instructions":
            continue
        print(f"{key}: {_plain(value)}")
    print()
    print(data["instructions"])
    return 0


def role_as_json(role: Role, default_model: str) -> dict[str, Any]:
    """The role as a JSON-ready dict, with credentials from its file redacted.

    `tools` are the tools the role is offered when it runs here; the others it asked
    for are `unavailable_tools`, each with a warning that says why.
    """
    warnings = list(role.warnings)
    offer = runtime_offer(role)
    model: dict[str, str] | None
    try:
        choice = resolve_role_model(role.model, default_model)
        model = {"provider": choice.provider, "id": choice.id}
    except ValueError as exc:
        model = None
        warnings.append(str(exc))
    warnings += offer.warnings()
    if model is not None and (unpriced := price_warning(choice)) is not None:
        warnings.append(unpriced)
    data: dict[str, Any] = {
        "name": role.name,
        "description": role.description,
        "format": role.format,
        "source": role.source,
        "tools": list(offer.tools),
        "unavailable_tools": [tool for tool, _ in offer.dropped],
        "ignored_tools": list(role.ignored_tools),
        "can_write": role.can_write,
        "model": model,
        "model_spec": role.model,
        "max_turns": role.max_turns,
        "permission_mode": role.permission_mode,
        "target": role.target,
        "handoffs": [{"agent": h.agent, "label": h.label} for h in role.handoffs],
        "warnings": warnings,
        "instructions": role.instructions,
    }
    return _redacted(data, role)


def _redacted(value: Any, role: Role) -> Any:
    if isinstance(value, str):
        return role.redact(value)
    if isinstance(value, list):
        return [_redacted(item, role) for item in value]
    if isinstance(value, dict):
        return {key: _redacted(item, role) for key, item in value.items()}
    return value


def _plain(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in value.items()) or "-"
    if isinstance(value, list):
        return ", ".join(_plain(item) for item in value) or "-"
    return str(value)


# ---- check -------------------------------------------------------------------------------


def run_check(args: argparse.Namespace) -> int:
    """Lint role files and config files; print `path: problem` per finding; 1 when there
    is any, else 0.

    Warnings (`path: warning: …`) are printed too but do not fail the check: the role
    runs, only without a tool it asked for or without a cost limit.
    """
    findings: list[tuple[str, str]] = []
    groups: list[list[Path]] = []
    repos: list[Path] = []  # repository roots whose config is checked
    config_files: list[Path] = []  # config files named on the command line
    for target in args.paths:
        if not target.exists() and not target.is_symlink():
            findings.append((str(target), "no such file or directory"))
        elif target.is_dir():
            groups.extend(_role_file_groups(target, findings, repo_only=False))
            repos.append(target)
        elif target.name in (CONFIG_NAME, MISSPELT_CONFIG_NAME):
            config_files.append(target)
        else:
            groups.append([target])
    if not args.paths:
        groups.extend(_role_file_groups(Path("."), findings, repo_only=True))
        repos.append(Path("."))
    default = worker_default_model()
    checked = 0
    for group in groups:
        seen: dict[str, Path] = {}
        for path in group:
            checked += 1
            for problem in _check_file(path, default, seen):
                findings.append((str(path), problem))
    configs = []
    for repo in repos:
        config_path, config_findings = check_repo_config(repo, default)
        if config_path is not None:
            configs.append(config_path)
            findings += config_findings
    for config_file in config_files:
        configs.append(str(config_file))
        if config_file.name == MISSPELT_CONFIG_NAME:
            findings.append((str(config_file), f"Rolecall reads {CONFIG_PATH}: rename it"))
        findings += check_config_file(config_file, _repository_of(config_file), default)
    for path_text, problem in findings:
        print(f"{path_text}: {problem}")
    warned = sum(1 for _, problem in findings if problem.startswith(WARNING))
    problems = len(findings) - warned
    if checked == 0 and not configs and not findings:
        print(f"no role files or {CONFIG_PATH} found", file=sys.stderr)
    else:
        what = f"{checked} role file(s)" + "".join(f" and {path}" for path in configs)
        also = f", {warned} warning(s)" if warned else ""
        print(f"checked {what}: {problems} problem(s){also}", file=sys.stderr)
    return 1 if problems else 0


def check_repo_config(repo: Path, default_model: str) -> tuple[str | None, list[tuple[str, str]]]:
    """The repository's `.github/rolecall.yml` (None when it has none) and its problems.

    Like the worker, it names a `.github/rolecall.yaml` that stands where the file
    should (a misspelling that would otherwise be ignored without a word).
    """
    path, misspelt = repo / CONFIG_PATH, repo / ".github" / MISSPELT_CONFIG_NAME
    if not path.exists() and not path.is_symlink():
        if misspelt.is_file():
            return str(misspelt), [(str(misspelt), f"Rolecall reads {CONFIG_PATH}: rename it")]
        return None, []
    return str(path), check_config_file(path, repo, default_model)


def check_config_file(path: Path, repo: Path, default_model: str) -> list[tuple[str, str]]:
    """Every problem with one config file, `(path, "line N, `key`: what")` each, in line
    order: checked as the worker checks it (handlers.config_checks.review_config), against
    the roles the checkout at `repo` gets and the providers this deployment knows, so the
    comment a command would earn is read here first, problem for problem."""
    if path.is_symlink() or not path.is_file():
        return [(str(path), "must be a regular file (Rolecall reads it from git as a file)")]
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        return [(str(path), f"cannot read the file: {exc.strerror or exc}")]
    files, _ = _read_role_dirs(repo)
    reading = review_config(
        text,
        discover_roles(files).names(),
        default_model=default_model,
        providers=_provider_names(),
    )
    return [(str(path), problem.render()) for problem in reading.problems]


def _repository_of(config_file: Path) -> Path:
    """The checkout a config file given by path belongs to (its roles are checked against)."""
    parent = config_file.absolute().parent
    return parent.parent if parent.name == ".github" else parent


def _provider_names() -> list[str]:
    """The providers a role may name here, as the worker reads them (the built-in ones
    when other settings are incomplete)."""
    try:
        return provider_names(get_settings())
    except SettingsError:
        return sorted(BUILTIN_PROVIDERS)


def _role_file_groups(
    directory: Path, findings: list[tuple[str, str]], *, repo_only: bool
) -> list[list[Path]]:
    """A repository root's two agent directories, or else (unless `repo_only`, or the
    directory has a `.github` folder, where its config lives) the directory itself,
    taken as a folder of role files."""
    agent_dirs = [directory / role_dir for role_dir in ROLE_DIRS]
    a_repository = (directory / ".github").is_dir() or any(path.is_dir() for path in agent_dirs)
    if not repo_only and not a_repository:
        agent_dirs = [directory]
    groups = []
    for agent_dir in agent_dirs:
        problems: list[tuple[str, str]] = []
        groups.append(_role_files_in(agent_dir, problems))
        findings.extend(problems)
    return groups


def _check_file(path: Path, default: str, seen: dict[str, Path]) -> list[str]:
    """Every problem with one role file, then its warnings (`WARNING` + text); `seen`
    catches two files naming one role."""
    try:
        role = load_role_file(path)
    except RoleError as exc:
        return [f"cannot be read: {exc.reason}"]
    problems = list(role.warnings)
    if CREDENTIAL_WARNING in problems:
        # Where, rather than that: one problem per line that holds a credential.
        lines = credential_lines(path.read_bytes().decode("utf-8", errors="replace"))
        if lines:
            at = problems.index(CREDENTIAL_WARNING)
            problems[at : at + 1] = lines
    warnings = runtime_offer(role).warnings()
    try:
        model = resolve_role_model(role.model, default)
    except ValueError as exc:
        problems.append(str(exc))
    else:
        unpriced = price_warning(model)
        warnings += [unpriced] if unpriced is not None else []
    if role.name in seen:
        problems.append(f"role {role.name!r} is already defined by {seen[role.name]}, which wins")
    else:
        seen[role.name] = path
    return problems + [WARNING + warning for warning in warnings]


def credential_lines(text: str) -> list[str]:
    """One problem per line of `text` where a credential starts, the line shown with
    every credential in it redacted (the value itself is never printed)."""
    line_starts = [0, *(match.end() for match in re.finditer("\n", text))]
    spans = secret_spans(text)
    problems = []
    for number in sorted({bisect.bisect_right(line_starts, start) for start, _ in spans}):
        begin = line_starts[number - 1]
        end = line_starts[number] - 1 if number < len(line_starts) else len(text)
        shown, position = "", begin
        for start, stop in spans:
            if stop > begin and start < end:
                shown += text[position : max(start, begin)] + REDACTED
                position = min(stop, end)
        shown = (shown + text[position:end]).strip()
        if len(shown) > MAX_SHOWN_LINE:
            shown = shown[: MAX_SHOWN_LINE - 1] + "…"
        problems.append(f"line {number} {CREDENTIAL_HINT}: {shown}")
    return problems
