"""`rolecall roles list | show | check`, driven through argparse as bot/cli/main.py does."""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import string
from pathlib import Path

import pytest

from agents.model import ModelError, resolve_model
from agents.roles.loader import builtin_roles
from bot.cli import roles as roles_cli

FIXTURES = Path(__file__).parent.parent / "agents" / "role_files"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5" * 4  # assembled so the repo holds no token literal
# What `roles` says about a tool Rolecall does not have, a role without network, and a
# model it cannot price: the text a user reads, spelled out.
CHANGES_REASON = (
    "Rolecall has no Changes tool: a role with Bash sees its changes with `git diff`, and a "
    "pull request's diff is in the brief of the jobs that need it"
)
NOT_GRANTED = (
    "ROLECALL_NETWORK_ALLOWLIST is empty, so no role has network (to grant it, add "
    "'{role}' (or `*`) to ROLECALL_NETWORK_ROLES and list the hosts it may reach in "
    "ROLECALL_NETWORK_ALLOWLIST)"
)
UNPRICED_OLLAMA = (
    "cost cannot be computed for model ollama,qwen2.5-coder:7b (Rolecall has no price for "
    "it), so the cost limit does not apply; the token limit (ROLECALL_MAX_TOKENS) does instead"
)


def model_error(spec: str) -> str:
    """What agents.model says about `spec`: the CLI must report exactly that."""
    with pytest.raises(ModelError) as caught:
        resolve_model(spec, default="sonnet", aliases={})
    return str(caught.value)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run each command from an empty directory with no ROLECALL_MODEL, no network
    granted and no .env."""
    for name in ("ROLECALL_MODEL", "ROLECALL_NETWORK_ALLOWLIST", "ROLECALL_NETWORK_ROLES"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="rolecall")
    roles_cli.register(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def copy_fixture(name: str, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / name, destination)
    return destination


# ---- list --------------------------------------------------------------------------------


def test_list_shows_precedence_shadowing_and_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    copy_fixture("planner.agent.md", repo / ".github/agents/planner.agent.md")
    copy_fixture("local-model.md", repo / ".claude/agents/local-model.md")
    copy_fixture("unclosed.md", repo / ".claude/agents/unclosed.md")
    make_repo(
        repo,
        {
            ".claude/agents/implementer.md": (
                "---\nname: implementer\ndescription: ours\nmodel: haiku\n---\nBuild it.\n"
            ),
            ".claude/agents/README.md": "# About our agents\n",
        },
    )
    code, out, err = run(capsys, "roles", "list", "--repo", str(repo))
    assert code == 0
    assert err == ""
    assert out.splitlines() == [
        "Roles, highest precedence first:",
        "  ROLE          PRECEDENCE        SOURCE                           WRITES  "
        "MODEL                        WARNINGS",
        "  planner       1 .github/agents  .github/agents/planner.agent.md  no      "
        "anthropic,claude-haiku-4-5   2",
        "  implementer   2 .claude/agents  .claude/agents/implementer.md    yes     "
        "anthropic,claude-haiku-5-5",
        "  local-helper  2 .claude/agents  .claude/agents/local-model.md    yes     "
        "ollama,qwen2.5-coder:7b",
        "  fixer         3 built-in        builtin                          yes     "
        "anthropic,claude-sonnet-5-5",
        "  reviewer      3 built-in        builtin                          no      "
        "anthropic,claude-sonnet-5-5",
        "Shadowed (the first source wins):",
        "  implementer: .claude/agents/implementer.md hides builtin",
        "  planner: .github/agents/planner.agent.md hides builtin",
        "Skipped (cannot be read):",
        "  .claude/agents/unclosed.md: the frontmatter opened with '---' on line 1 is never "
        "closed (add a line '---' after the last setting)",
    ]


def test_list_uses_rolecall_model_for_roles_without_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ROLECALL_MODEL", "ollama,llama3")
    code, out, _ = run(capsys, "roles", "list", "--repo", str(tmp_path))
    assert code == 0
    planner = next(line for line in out.splitlines() if line.startswith("  planner"))
    assert planner.split()[-1] == "ollama,llama3"


def test_list_of_a_missing_directory_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "roles", "list", "--repo", str(tmp_path / "nope"))
    assert code == 2
    assert out == ""
    assert err == f"{tmp_path / 'nope'}: not a directory\n"


def test_list_reports_symlinked_role_files_instead_of_following_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    outside = make_repo(tmp_path, {"outside.md": "---\nname: sneaky\ndescription: x\n---\nHi\n"})
    (repo / ".claude/agents").mkdir(parents=True)
    (repo / ".claude/agents/sneaky.md").symlink_to(outside / "outside.md")
    code, out, _ = run(capsys, "roles", "list", "--repo", str(repo))
    assert code == 0
    assert "sneaky  " not in out
    assert (
        "  .claude/agents/sneaky.md: is a symbolic link; role files must be regular files"
        in out.splitlines()
    )


# ---- show --------------------------------------------------------------------------------


def test_show_json_of_a_copilot_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "planner.agent.md"
    code, out, err = run(capsys, "roles", "show", str(path), "--json")
    assert code == 0
    assert err == ""
    data = json.loads(out)
    assert data == {
        "name": "planner",
        "description": "Generate an implementation plan for new features or refactoring.",
        "format": "copilot",
        "source": path.as_posix(),
        "tools": ["Glob", "Grep", "Read"],
        "unavailable_tools": ["Changes", "WebFetch"],
        "ignored_tools": ["problems", "githubRepo"],
        "can_write": False,
        "model": {"provider": "anthropic", "id": "claude-haiku-4-5"},
        "model_spec": "claude-haiku-4-5",
        "max_turns": None,
        "permission_mode": None,
        "target": "vscode",
        "handoffs": [{"agent": "implementer", "label": "Start implementation"}],
        "warnings": [
            "tool 'problems' ignored: Rolecall has no editor diagnostics; run the linter "
            "with Bash instead",
            "tool 'githubRepo' ignored: the agent has no GitHub access and no network",
            f"Changes is unavailable: {CHANGES_REASON}",
            f"WebFetch is unavailable: {NOT_GRANTED.format(role='planner')}",
        ],
        "instructions": "# Planning instructions\n\nWrite a plan. Do not edit files.",
    }


@pytest.mark.parametrize(
    ("fixture", "model", "max_turns"),
    [
        ("string-tools.md", {"provider": "anthropic", "id": "claude-sonnet-5-5"}, 20),
        ("generated.md", {"provider": "anthropic", "id": "claude-sonnet-5-5"}, None),
        ("generated-multiline.md", {"provider": "anthropic", "id": "claude-opus-5-5"}, None),
        ("list-tools.md", {"provider": "anthropic", "id": "claude-haiku-4-5"}, None),
        ("local-model.md", {"provider": "ollama", "id": "qwen2.5-coder:7b"}, None),
        ("plain.md", {"provider": "anthropic", "id": "claude-sonnet-5-5"}, None),
    ],
)
def test_show_json_resolves_models(
    capsys: pytest.CaptureFixture[str], fixture: str, model: dict[str, str], max_turns: int | None
) -> None:
    code, out, _ = run(capsys, "roles", "show", str(FIXTURES / fixture), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["model"] == model
    assert data["max_turns"] == max_turns


def test_show_uses_rolecall_model_as_the_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLECALL_MODEL", "haiku")
    _, out, _ = run(capsys, "roles", "show", str(FIXTURES / "generated.md"), "--json")
    assert json.loads(out)["model"] == {"provider": "anthropic", "id": "claude-haiku-5-5"}


def test_show_redacts_credentials_from_the_role(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = make_repo(
        tmp_path,
        {
            "leaky.md": (
                f"---\nname: leaky\ndescription: token {GITHUB_TOKEN}\n---\nUse {GITHUB_TOKEN}\n"
            )
        },
    )
    code, out, _ = run(capsys, "roles", "show", str(path / "leaky.md"), "--json")
    assert code == 0
    assert GITHUB_TOKEN not in out
    data = json.loads(out)
    assert data["description"] == "token [REDACTED]"
    assert data["instructions"] == "Use [REDACTED]"
    assert data["warnings"] == ["role file contains a credential (redacted)"]


def test_show_unknown_provider_is_a_warning_and_no_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = make_repo(tmp_path, {"x.md": "---\nname: x\ndescription: d\nmodel: nosuch,m1\n---\nB\n"})
    _, out, _ = run(capsys, "roles", "show", str(path / "x.md"), "--json")
    data = json.loads(out)
    assert data["model"] is None
    assert data["model_spec"] == "nosuch,m1"
    assert data["warnings"] == [model_error("nosuch,m1")]
    assert data["warnings"][0].startswith("unknown model provider 'nosuch'")


def test_show_a_builtin_by_name_in_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "roles", "show", "reviewer")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "name: reviewer"
    assert "tools: Glob, Grep, Read" in lines
    assert "unavailable_tools: -" in lines
    assert "can_write: False" in lines
    assert "model: provider=anthropic, id=claude-sonnet-5-5" in lines
    assert "source: builtin" in lines
    assert "You are the reviewer." in out


def test_show_a_file_that_cannot_be_read(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "unclosed.md"
    code, out, err = run(capsys, "roles", "show", str(path), "--json")
    assert code == 1
    assert out == ""
    assert err == (
        f"{path}: the frontmatter opened with '---' on line 1 is never closed (add a line "
        "'---' after the last setting)\n"
    )


def test_show_something_that_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "roles", "show", "no-such-role")
    assert code == 1
    assert err == "no-such-role: no such file, and no built-in role of that name\n"


# ---- check -------------------------------------------------------------------------------


def test_check_clean_files_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "roles",
        "check",
        str(FIXTURES / "string-tools.md"),
        str(FIXTURES / "local-model.md"),
        str(FIXTURES / "plain.md"),
    )
    # A model Rolecall cannot price is worth a warning, which does not fail the check.
    assert (code, out) == (0, f"{FIXTURES / 'local-model.md'}: warning: {UNPRICED_OLLAMA}\n")
    assert err == "checked 3 role file(s): 0 problem(s), 1 warning(s)\n"


def test_check_reports_one_line_per_problem_and_exits_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "roles"
    for name in ("generated.md", "unknown-tools.md", "security-fixer.agent.md", "unclosed.md"):
        copy_fixture(name, folder / name)
    make_repo(
        folder,
        {
            "leaky.md": f"---\nname: leaky\ndescription: d\n---\nUse {GITHUB_TOKEN}\n",
            "provider.md": "---\nname: prov\ndescription: d\nmodel: nosuch,m1\n---\nB\n",
            "twin.md": "---\nname: code-reviewer\ndescription: again\n---\nB\n",
        },
    )
    code, out, err = run(capsys, "roles", "check", str(folder))
    assert code == 1
    assert out.splitlines() == [
        f"{folder}/generated.md: frontmatter is not valid YAML (line 3: mapping values are "
        "not allowed here); read it line by line",
        f"{folder}/leaky.md: line 5 holds a credential (redacted wherever Rolecall posts "
        "it; move it to a secret store): Use [REDACTED]",
        f"{folder}/provider.md: {model_error('nosuch,m1')}",
        f"{folder}/security-fixer.agent.md: tool 'github/*' ignored: MCP servers are not "
        "available to roles",
        f"{folder}/security-fixer.agent.md: tool 'playwright/navigate' ignored: MCP servers "
        "are not available to roles",
        f"{folder}/security-fixer.agent.md: {model_error('GPT-5')}",
        f"{folder}/security-fixer.agent.md: warning: Changes is unavailable: {CHANGES_REASON}",
        f"{folder}/twin.md: role 'code-reviewer' is already defined by "
        f"{folder}/generated.md, which wins",
        f"{folder}/unclosed.md: cannot be read: the frontmatter opened with '---' on line 1 "
        "is never closed (add a line '---' after the last setting)",
        f"{folder}/unknown-tools.md: unknown tool 'Frobnicate' ignored",
        f"{folder}/unknown-tools.md: tool 'Task' ignored: roles cannot start other agents",
        f"{folder}/unknown-tools.md: tool 'mcp__jira__search' ignored: MCP servers are not "
        "available to roles",
        f"{folder}/unknown-tools.md: tool 'NotebookEdit' ignored: notebooks are not supported",
        f"{folder}/unknown-tools.md: tool 'Bash(npm test:*)' ignored: Rolecall cannot limit "
        "Bash to some uses, so it does not grant Bash",
    ]
    assert GITHUB_TOKEN not in out
    assert err == "checked 7 role file(s): 13 problem(s), 1 warning(s)\n"


def test_check_without_paths_reads_this_repositorys_agent_directories(
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_repo(
        Path("."),
        {
            ".claude/agents/ok.md": "---\nname: ok\ndescription: fine\ntools: Read\n---\nB\n",
            ".github/agents/odd.agent.md": "---\ndescription: d\ntools: [problems]\n---\nB\n",
            "NOTES.md": "not a role, never checked\n",
        },
    )
    code, out, err = run(capsys, "roles", "check")
    assert code == 1
    assert out.splitlines() == [
        ".github/agents/odd.agent.md: tool 'problems' ignored: Rolecall has no editor "
        "diagnostics; run the linter with Bash instead",
    ]
    assert err == "checked 2 role file(s): 1 problem(s)\n"


def test_check_of_a_repository_root_and_a_missing_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = make_repo(
        tmp_path / "repo", {".claude/agents/a.md": "---\nname: a\ndescription: d\n---\nB\n"}
    )
    code, out, _ = run(capsys, "roles", "check", str(repo), str(tmp_path / "missing.md"))
    assert code == 1
    assert out == f"{tmp_path / 'missing.md'}: no such file or directory\n"


def test_check_with_nothing_to_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "roles", "check")
    assert (code, out, err) == (0, "", "no role files or .github/rolecall.yml found\n")


def test_roles_without_a_subcommand_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "roles")
    assert code == 2
    assert out == ""
    assert "list" in err and "show" in err and "check" in err


def test_check_names_each_line_that_holds_a_secret_shaped_value(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Its first 12 characters are the database password below: mixed like a real one
    # (an all-letter draw, about 2 % of purely random ones, reads as a word, not a secret).
    secret = "".join(
        secrets.choice(string.ascii_uppercase)
        + secrets.choice(string.ascii_lowercase)
        + secrets.choice(string.digits)
        for _ in range(4)
    )
    secret += "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(18))
    secret += "Zz9"
    path = make_repo(
        tmp_path,
        {
            "deployer.md": (
                "---\nname: deployer\ndescription: deploys\n---\n"
                "Deploy the app. The environment is:\n\n"
                f"BETTER_AUTH_SECRET={secret}\n"
                "BETTER_AUTH_URL=http://localhost:3000\n"
                f'export DATABASE_URL="postgres://app:{secret[:12]}@db/app"\n'
                "API_KEY=changeme\n"
            )
        },
    )
    code, out, err = run(capsys, "roles", "check", str(path / "deployer.md"))
    assert code == 1
    hint = "holds a credential (redacted wherever Rolecall posts it; move it to a secret store)"
    assert out.splitlines() == [
        f"{path}/deployer.md: line 7 {hint}: BETTER_AUTH_SECRET=[REDACTED]",
        f'{path}/deployer.md: line 9 {hint}: export DATABASE_URL="postgres://app:[REDACTED]@db/app"',
    ]
    assert secret[:12] not in out + err
    assert err == "checked 1 role file(s): 2 problem(s)\n"
    # What `roles show` prints is redacted the same way.
    _, shown, _ = run(capsys, "roles", "show", str(path / "deployer.md"), "--json")
    assert secret[:12] not in shown
    assert "BETTER_AUTH_SECRET=[REDACTED]" in json.loads(shown)["instructions"]


# ---- what a role gets when it runs here (issue 11) ----------------------------------------

FETCHER = "---\nname: researcher\ndescription: d\ntools: [read, fetch, changes]\n---\nLook.\n"


def test_a_role_that_fetches_without_network_is_told_why_and_what_to_change(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_repo(tmp_path, {"researcher.agent.md": FETCHER}) / "researcher.agent.md"
    # No network at all here: WebFetch is not offered, and a warning says which settings.
    code, out, err = run(capsys, "roles", "check", str(path))
    assert code == 0  # a warning: the role runs, without WebFetch
    assert out.splitlines() == [
        f"{path}: warning: Changes is unavailable: {CHANGES_REASON}",
        f"{path}: warning: WebFetch is unavailable: {NOT_GRANTED.format(role='researcher')}",
    ]
    assert err == "checked 1 role file(s): 0 problem(s), 2 warning(s)\n"
    _, shown, _ = run(capsys, "roles", "show", str(path), "--json")
    data = json.loads(shown)
    assert data["tools"] == ["Glob", "Grep", "Read"]
    assert data["unavailable_tools"] == ["Changes", "WebFetch"]
    assert f"WebFetch is unavailable: {NOT_GRANTED.format(role='researcher')}" in data["warnings"]

    # Network for another role only: this one is named as not granted.
    monkeypatch.setenv("ROLECALL_NETWORK_ALLOWLIST", "docs.python.org")
    monkeypatch.setenv("ROLECALL_NETWORK_ROLES", "installer")
    _, out, _ = run(capsys, "roles", "check", str(path))
    assert f"{path}: warning: WebFetch is unavailable: role 'researcher' is not granted " in out
    assert "add 'researcher' (or `*`) to ROLECALL_NETWORK_ROLES" in out

    # A malformed allow-list grants nobody anything, and says so.
    monkeypatch.setenv("ROLECALL_NETWORK_ROLES", "researcher")
    monkeypatch.setenv("ROLECALL_NETWORK_ALLOWLIST", "*")
    _, out, _ = run(capsys, "roles", "check", str(path))
    assert "WebFetch is unavailable: ROLECALL_NETWORK_ALLOWLIST is malformed" in out

    # Granted: WebFetch is shown and offered, and only Changes is left to warn about.
    monkeypatch.setenv("ROLECALL_NETWORK_ALLOWLIST", "docs.python.org")
    code, out, err = run(capsys, "roles", "check", str(path))
    assert (code, out) == (0, f"{path}: warning: Changes is unavailable: {CHANGES_REASON}\n")
    _, shown, _ = run(capsys, "roles", "show", str(path))
    assert "tools: Glob, Grep, Read, WebFetch" in shown.splitlines()
    assert "unavailable_tools: Changes" in shown.splitlines()


def test_check_warns_when_a_models_cost_cannot_be_computed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = make_repo(
        tmp_path,
        {
            "new.md": "---\nname: new\ndescription: d\nmodel: claude-opus-9-1\n---\nB\n",
            "priced.md": "---\nname: priced\ndescription: d\nmodel: haiku\n---\nB\n",
        },
    )
    code, out, err = run(capsys, "roles", "check", str(folder))
    assert code == 0
    assert out.splitlines() == [
        f"{folder}/new.md: warning: cost cannot be computed for model claude-opus-9-1 "
        "(Rolecall has no price for it), so the cost limit does not apply; the token limit "
        "(ROLECALL_MAX_TOKENS) does instead",
    ]
    assert err == "checked 2 role file(s): 0 problem(s), 1 warning(s)\n"
    _, shown, _ = run(capsys, "roles", "show", str(folder / "new.md"), "--json")
    assert any("ROLECALL_MAX_TOKENS" in warning for warning in json.loads(shown)["warnings"])


# ---- .github/rolecall.yml (issue 13) ------------------------------------------------------

BUILTIN_NAMES = [role.name for role in builtin_roles()]
BACKEND = "---\nname: backend\ndescription: d\ntools: Read\n---\nB\n"
# Line 3 names a role the repository lacks; lines 7 and 9 are schema errors; line 5 maps
# one of Rolecall's own commands.
BAD_CONFIG = (
    "labels:\n"  # 1
    "  needs-backend: backend\n"  # 2
    "  needs-frontend: frontend\n"  # 3
    "commands:\n"  # 4
    "  help: backend\n"  # 5
    "roles:\n"  # 6
    "  backend: {max_turns: 0}\n"  # 7
    "pull_requests:\n"  # 8
    "  drafts: true\n"  # 9
)


def test_check_reads_the_repositorys_config_and_tells_every_problem_in_line_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {".claude/agents/backend.md": BACKEND, ".github/rolecall.yml": BAD_CONFIG},
    )
    code, out, err = run(capsys, "roles", "check", str(repo))
    assert code == 1
    config = f"{repo}/.github/rolecall.yml"
    roles_here = ", ".join(f"`{name}`" for name in sorted({"backend", *BUILTIN_NAMES}))
    assert out.splitlines() == [
        f"{config}: line 3, `labels.needs-frontend`: no role named `frontend` in this "
        f"repository; roles here: {roles_here}",
        f"{config}: line 5, `commands.help`: `/help` is one of Rolecall's own commands and "
        "cannot be mapped",
        f"{config}: line 7, `roles.backend.max_turns`: must be at least 1, not `0`",
        f"{config}: line 9, `pull_requests.drafts`: unknown key; did you mean `draft`? keys "
        "allowed here: `draft`",
    ]
    assert err == f"checked 1 role file(s) and {config}: 4 problem(s)\n"


def test_check_without_paths_reads_this_repositorys_config_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_repo(Path("."), {".github/rolecall.yml": "default_role: backnd\n"})
    code, out, err = run(capsys, "roles", "check")
    assert code == 1
    assert out.startswith(".github/rolecall.yml: line 1, `default_role`: no role named `backnd`")
    assert err == "checked 0 role file(s) and .github/rolecall.yml: 1 problem(s)\n"

    make_repo(Path("."), {".claude/agents/backend.md": BACKEND})
    code, out, err = run(capsys, "roles", "check", ".github/rolecall.yml")
    assert code == 1, "a config file named on its own is checked against its repository"
    make_repo(Path("."), {".github/rolecall.yml": "default_role: backend\n"})
    code, out, err = run(capsys, "roles", "check")
    assert (code, out) == (0, "")
    assert err == "checked 1 role file(s) and .github/rolecall.yml: 0 problem(s)\n"


def test_check_names_a_misspelt_config_file(capsys: pytest.CaptureFixture[str]) -> None:
    make_repo(Path("."), {".github/rolecall.yaml": "default_role: implementer\n"})
    code, out, _ = run(capsys, "roles", "check")
    assert (code, out) == (
        1,
        ".github/rolecall.yaml: Rolecall reads .github/rolecall.yml: rename it\n",
    )
