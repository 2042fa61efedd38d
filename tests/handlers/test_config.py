""".github/rolecall.yml: what a valid file means, and what each invalid one is told."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.config import ConfigError, ConfigProblem, RepoConfig, RoleSettings, render_problems
from handlers.config_checks import check_models, check_roles, review_config
from handlers.config_parsing import parse_config, raw_mentions

FULL = """\
# what /implement runs
default_role: backend
commands:
  be: backend
labels:
  needs-backend: backend
  Plan Me: planner
roles:
  backend:
    model: local
    max_turns: 30
    max_minutes: 20
    max_cost_usd: 2.5
models:
  local: ollama,qwen2.5-coder:7b
pull_requests:
  draft: true
"""


def test_a_full_file_reads_as_written() -> None:
    config = parse_config(FULL)
    assert config.default_role == "backend"
    assert config.role_for_command("be") == "backend"
    assert config.role_for_command("implement") is None
    assert config.role_for_label("needs-backend") == "backend"
    assert config.role_for_label("plan me") == "planner", "labels compare case-insensitively"
    assert config.role_for_label("rolecall:reviewer") == "reviewer", "the default label prefix"
    assert config.role_for_label("bug") is None
    assert config.role_settings("Backend") == RoleSettings(
        model="local", max_turns=30, max_minutes=20, max_cost_usd=Decimal("2.5")
    )
    assert config.role_settings("planner") == RoleSettings()
    assert config.line_of("roles", "backend", "max_turns") == 11


@pytest.mark.parametrize("text", [None, "", "   \n", "# only a comment\n"])
def test_no_file_or_an_empty_one_means_the_defaults(text: str | None) -> None:
    assert parse_config(text) == RepoConfig()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "lables:\n  bug: backend\n",
            "line 1, `lables`: unknown key; did you mean `labels`? keys allowed here: "
            "`ci`, `commands`, `default_role`, `include_untrusted_comments`, `labels`, "
            "`models`, `pull_requests`, `roles`",
        ),
        (
            "roles:\n  backend:\n    max_turn: 3\n",
            "line 3, `roles.backend.max_turn`: unknown key; did you mean `max_turns`? keys "
            "allowed here: `max_cost_usd`, `max_minutes`, `max_turns`, `may_change`, `model`, "
            "`thinking`",
        ),
        (
            "roles:\n  backend:\n    thinking: 500\n",
            "line 3, `roles.backend.thinking`: must be at least 1024, not `500`",
        ),
        (
            "roles:\n  backend:\n    max_turns: 0\n",
            "line 3, `roles.backend.max_turns`: must be at least 1, not `0`",
        ),
        (
            "roles:\n  backend:\n    max_turns: x\n",
            "`roles.backend.max_turns`: must be a whole number, not `x`",
        ),
        (
            "roles:\n  backend:\n    max_minutes: 0\n",
            "`roles.backend.max_minutes`: must be more than 0, not `0`",
        ),
        (
            "roles:\n  backend:\n    max_cost_usd: x\n",
            "`roles.backend.max_cost_usd`: must be a number, not `x`",
        ),
        (
            "roles:\n  backend: 3\n",
            "line 2, `roles.backend`: must be a mapping (`key: value` lines)",
        ),
        ("labels: [a, b]\n", "line 1, `labels`: must be a mapping (`key: value` lines)"),
        (
            "pull_requests:\n  draft: maybe\n",
            "`pull_requests.draft`: must be true or false, not `maybe`",
        ),
        (
            "pull_requests:\n  draft: false\n",
            "`pull_requests.draft`: Rolecall opens pull requests as drafts only",
        ),
        (
            "commands:\n  help: backend\n",
            "line 2, `commands.help`: `/help` is one of Rolecall's own commands",
        ),
        ("commands:\n  implement: backend\n", "(set `default_role` to choose what it runs)"),
        ("commands:\n  /be: backend\n", "line 2, `commands./be`: a command is lower-case letters"),
        ("commands:\n  be: ''\n", "line 2, `commands.be`: names no role"),
        ("models:\n  a,b: sonnet\n", "line 2, `models.a,b`: an alias is one word (no commas)"),
        ("- a\n- b\n", "line 1: the file must be a mapping of settings, not a list"),
        ("just words\n", "line 1: the file must be a mapping of settings, not a single value"),
        ("labels:\n  x: [\n", "line 3: not valid YAML: expected the node content"),
        ("labels:\n  a: b\nlabels:\n  c: d\n", "line 3, `labels`: appears twice (lines 1 and 3)"),
        ("a: &x 1\nb: *x\n", "line 2: YAML aliases (`*name`) are not supported here"),
        ("x: !!python/name:os.system\n", "line 1: not valid YAML: could not determine a"),
    ],
)
def test_each_invalid_shape_says_what_and_where(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    rendered = [problem.render() for problem in raised.value.problems]
    assert any(line.startswith(expected) or expected in line for line in rendered), rendered


def test_every_problem_is_reported_not_just_the_first() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config("lables: {}\nroles:\n  a:\n    max_turns: 0\n    modle: x\n")
    assert [p.key for p in raised.value.problems] == [
        "lables",
        "roles.a.max_turns",
        "roles.a.modle",
    ]


def test_references_to_roles_the_repository_lacks_are_problems() -> None:
    config = parse_config(FULL.replace("Plan Me: planner", "Plan Me: plnner"))
    problems = check_roles(config, ["backend", "planner", "implementer"])
    assert [(p.key, p.line) for p in problems] == [("labels.Plan Me", 7)]
    assert "no role named `plnner`" in problems[0].message
    assert "`backend`, `implementer`, `planner`" in problems[0].message


def test_models_that_name_no_known_provider_are_problems() -> None:
    config = parse_config(FULL)
    assert check_models(config, default="sonnet", providers=["anthropic", "ollama"]) == []
    problems = check_models(config, default="sonnet", providers=["anthropic"])
    assert [(p.key, p.line) for p in problems] == [
        ("models.local", 15),
        ("roles.backend.model", 10),
    ]
    assert all("unknown model provider 'ollama'" in p.message for p in problems)


def test_the_comment_names_the_file_the_branch_and_each_problem() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config("roles:\n  backend:\n    max_turns: 0\n")
    body = render_problems(raised.value.problems, "main")
    assert "`.github/rolecall.yml`" in body and "(`main`)" in body
    assert "- line 3, `roles.backend.max_turns`: must be at least 1" in body


def test_a_broken_file_still_tells_which_commands_and_labels_it_names() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config("commands:\n  be: backend\nlabels:\n  Backend: backend\nroles: 3\n")
    raw = raised.value.raw
    assert raw_mentions(raw, command="be") and raw_mentions(raw, label="backend")
    assert not raw_mentions(raw, command="shrug") and not raw_mentions(None, command="be")


# --- the CI gate and protected paths (issue #9, section 2) --------------------------------------


def test_by_default_pushes_wait_for_ci_and_no_role_may_change_protected_paths() -> None:
    config = parse_config(None)
    assert config.ci.run_on_push is False
    assert config.role_settings("implementer").may_change == ()


def test_a_repository_can_opt_out_of_the_ci_gate() -> None:
    assert parse_config("ci:\n  run_on_push: true\n").ci.run_on_push is True
    assert parse_config("ci: {run_on_push: false}\n").ci.run_on_push is False


def test_a_role_can_be_granted_protected_paths() -> None:
    config = parse_config(
        "roles:\n"
        "  backend:\n"
        "    may_change:\n"
        "      - .github/actions/**\n"
        "      - AGENTS.md\n"
        "  docs:\n"
        "    may_change: ['**/CLAUDE.md']\n"
    )
    assert config.role_settings("Backend").may_change == (".github/actions/**", "AGENTS.md")
    assert config.role_settings("docs").may_change == ("**/CLAUDE.md",)
    assert config.role_settings("planner").may_change == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "ci:\n  run_on_pushes: true\n",
            "line 2, `ci.run_on_pushes`: unknown key; did you mean `run_on_push`? keys allowed "
            "here: `run_on_push`",
        ),
        ("ci:\n  run_on_push: sometimes\n", "`ci.run_on_push`: must be true or false"),
        ("ci: true\n", "line 1, `ci`: must be a mapping"),
        (
            "roles:\n  backend:\n    may_change: .github/actions/**\n",
            "line 3, `roles.backend.may_change`: must be a list of paths",
        ),
        (
            "roles:\n  backend:\n    may_change:\n      - src/**\n      - .github/workflows/**\n",
            "line 5, `roles.backend.may_change.1`: Rolecall never changes GitHub Actions workflows",
        ),
        (
            "roles:\n  backend:\n    may_change: ['../x']\n",
            "`roles.backend.may_change.0`: a path pattern may not contain `..`",
        ),
        (
            "roles:\n  backend:\n    may_change: ['']\n",
            "`roles.backend.may_change.0`: names no path",
        ),
        ("commands:\n  ci: backend\n", "line 2, `commands.ci`: `/ci` is one of Rolecall's own"),
    ],
)
def test_each_invalid_ci_or_grant_setting_says_what_and_where(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    rendered = [problem.render() for problem in raised.value.problems]
    assert any(line.startswith(expected) or expected in line for line in rendered), rendered


# --- every problem in one round, in line order (issue #13) --------------------------------------

# Line 3 names a role the repository lacks; line 9 is a schema error.
TWO_KINDS = """\
default_role: backend
labels:
  needs-frontend: frontend
roles:
  backend:
    max_turns: 30
  planner:
    max_minutes: 10
    max_turn: 3
"""


def review(text: str, roles: tuple[str, ...] = ("backend", "planner", "implementer")) -> list[str]:
    reading = review_config(text, roles, default_model="sonnet", providers=["anthropic"])
    assert reading.config is None, "a file with problems is never used"
    return [problem.render() for problem in reading.problems]


def test_schema_errors_and_unknown_roles_are_told_together_in_line_order() -> None:
    assert review(TWO_KINDS) == [
        "line 3, `labels.needs-frontend`: no role named `frontend` in this repository; roles "
        "here: `backend`, `implementer`, `planner`",
        "line 9, `roles.planner.max_turn`: unknown key; did you mean `max_turns`? keys allowed "
        "here: `max_cost_usd`, `max_minutes`, `max_turns`, `may_change`, `model`, `thinking`",
    ]


def test_a_role_whose_settings_are_wrong_is_still_checked_by_name() -> None:
    text = "roles:\n  backnd: 3\n  planner:\n    max_turns: 0\ncommands:\n  be: backnd\n"
    assert [line.split(":")[0] for line in review(text)] == [
        "line 2, `roles.backnd`",  # must be a mapping
        "line 2, `roles.backnd`",  # and names no role here
        "line 4, `roles.planner.max_turns`",
        "line 6, `commands.be`",
    ]


def test_duplicates_names_and_models_join_the_same_list() -> None:
    text = (
        "commands:\n"  # 1
        "  help: backend\n"  # 2: one of Rolecall's own
        "models:\n"  # 3
        "  local: nowhere,qwen\n"  # 4: no such provider
        "commands:\n"  # 5: twice
        "  be: backnd\n"  # 6: no such role
        "pull_requests:\n"  # 7
        "  draft: maybe\n"  # 8
    )
    lines = review(text)
    assert [line.split(":")[0] for line in lines] == [
        "line 4, `models.local`",
        "line 5, `commands`",
        "line 6, `commands.be`",
        "line 8, `pull_requests.draft`",
    ], lines


def test_a_file_without_problems_reviews_clean_and_is_used() -> None:
    reading = review_config(
        FULL, ["backend", "planner"], default_model="sonnet", providers=["anthropic", "ollama"]
    )
    assert reading.problems == ()
    assert reading.config is not None and reading.config.default_role == "backend"


def test_problems_about_the_whole_file_come_first() -> None:
    extra = ConfigProblem("", "Rolecall reads `.github/rolecall.yml`: rename it")
    reading = review_config(
        "lables: {}\n",
        ["implementer"],
        default_model="sonnet",
        providers=["anthropic"],
        extra_problems=[extra],
    )
    assert [p.key for p in reading.problems] == ["", "lables"]


def test_the_posted_comment_lists_every_problem_in_line_order() -> None:
    reading = review_config(
        TWO_KINDS, ["backend", "planner"], default_model="sonnet", providers=["anthropic"]
    )
    body = render_problems(reading.problems, "main")
    items = [line for line in body.splitlines() if line.startswith("- ")]
    assert [item.split(",")[0] for item in items] == ["- line 3", "- line 9"]


def test_a_key_of_the_wrong_kind_is_set_aside_and_the_rest_still_checked() -> None:
    lines = review("commands:\n  1: backend\n  be: backnd\nroles:\n  2: {}\n")
    assert [line.split(":")[0] for line in lines] == [
        "line 2, `commands.1`",
        "line 3, `commands.be`",
        "line 5, `roles.2`",
    ], lines
