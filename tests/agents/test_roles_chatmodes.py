"""Copilot chat modes (`.github/chatmodes/*.chatmode.md`), the format before custom agents.

They are still common in repositories; each must load as its author meant: a Copilot
file named after its stem, found by discovery, and ranked below the custom agent of
the same name (as Copilot ranks them), which says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.roles.loader import (
    ROLE_DIRS,
    Shadowing,
    discover_roles,
    load_role_file,
    load_role_text,
    precedence_of,
)

FIXTURES = Path(__file__).parent / "role_files"
READ_ONLY = {"Read", "Glob", "Grep"}


def text_of(name: str) -> str:
    return (FIXTURES / name).read_text()


def role_file(description: str) -> str:
    return f"---\ndescription: {description}\ntools: ['codebase']\n---\nBe useful.\n"


def test_a_chat_mode_is_a_copilot_role_named_after_its_stem() -> None:
    role = load_role_file(FIXTURES / "debug.chatmode.md")
    assert role.name == "debug"
    assert role.format == "copilot"
    assert role.description == "Find the cause of a bug and fix it"
    # codebase/search/usages/findTestFiles find, editFiles edits and creates,
    # runCommands is the shell, fetch is the web; nothing else is granted.
    assert role.tools == {"Bash", "Edit", "Write", "WebFetch", "Read", "Glob", "Grep"}
    assert role.ignored_tools == ("problems", "githubRepo", "Microsoft Docs")
    assert role.model == "claude-sonnet-4-0"  # "Claude Sonnet 4", from the model table
    assert role.instructions.startswith("# Debugging\n\nReproduce the failure first")
    assert role.warnings == (
        "tool 'problems' ignored: Rolecall has no editor diagnostics; run the linter with "
        "Bash instead",
        "tool 'githubRepo' ignored: the agent has no GitHub access and no network",
        "unknown tool 'Microsoft Docs' ignored",
    )


def test_chat_mode_tool_spellings_from_the_wild() -> None:
    role = load_role_file(FIXTURES / "review.chatmode.md")
    assert role.name == "review"
    # `run_in_terminal` is `runInTerminal` as the model spells it; `readFiles` reads.
    assert role.tools == {"Bash", "Changes", "Read", "Glob", "Grep"}
    assert role.ignored_tools == ("get_errors",)
    assert role.model == "GPT-4.1"  # kept as written; resolving it says it is OpenAI's


def test_a_chat_mode_without_frontmatter_is_still_named_after_its_file() -> None:
    role = load_role_text("# Architect mode\n\nThink before typing.\n", "x/architect.chatmode.md")
    assert (role.name, role.format, role.description) == (
        "architect",
        "copilot",
        "Think before typing.",
    )


def test_chat_modes_are_discovered_and_other_files_beside_them_are_not() -> None:
    files = {
        ".github/chatmodes/debug.chatmode.md": text_of("debug.chatmode.md"),
        ".github/chatmodes/Review.chatmode.md": text_of("review.chatmode.md"),
        ".github/chatmodes/README.md": "# Our chat modes\n",
        ".github/chatmodes/notes.md": role_file("not a chat mode"),
        ".github/chatmodes/old/legacy.chatmode.md": role_file("subdirectories are not read"),
        ".github/prompts/write-tests.prompt.md": role_file("a prompt file, not a role"),
    }
    role_set = discover_roles(files, builtins=[])
    assert [(role.name, role.source) for role in role_set.roles] == [
        ("review", ".github/chatmodes/Review.chatmode.md"),
        ("debug", ".github/chatmodes/debug.chatmode.md"),
    ]
    assert role_set.errors == role_set.shadowed == ()
    assert [precedence_of(path) for path in files] == [0, 0, None, None, None, None]


def test_a_custom_agent_wins_over_the_chat_mode_of_the_same_name_and_says_so() -> None:
    files = {
        ".claude/agents/debug.md": "---\nname: debug\ndescription: claude\n---\nClaude.\n",
        ".github/chatmodes/debug.chatmode.md": role_file("chat mode"),
        ".github/agents/debug.agent.md": role_file("custom agent"),
        ".github/chatmodes/plan.chatmode.md": role_file("chat mode plan"),
        ".claude/agents/plan.md": "---\nname: plan\ndescription: claude plan\n---\nPlan.\n",
    }
    role_set = discover_roles(files, builtins=[])
    assert [(role.name, role.description) for role in role_set.roles] == [
        ("debug", "custom agent"),
        ("plan", "chat mode plan"),
    ]
    assert role_set.shadowed == (
        Shadowing("debug", ".github/agents/debug.agent.md", ".github/chatmodes/debug.chatmode.md"),
        Shadowing("debug", ".github/agents/debug.agent.md", ".claude/agents/debug.md"),
        Shadowing("plan", ".github/chatmodes/plan.chatmode.md", ".claude/agents/plan.md"),
    )
    debug, plan = role_set.roles
    assert debug.warnings == (
        ".github/chatmodes/debug.chatmode.md also defines role 'debug'; this file wins "
        "(custom agents take precedence over chat modes, as in Copilot)",
        ".claude/agents/debug.md also defines role 'debug'; this file wins (Copilot's files "
        "take precedence over Claude Code's)",
    )
    assert plan.warnings == (
        ".claude/agents/plan.md also defines role 'plan'; this file wins (Copilot's files "
        "take precedence over Claude Code's)",
    )


def test_overriding_a_built_in_role_is_no_warning() -> None:
    role_set = discover_roles({".github/chatmodes/planner.chatmode.md": role_file("ours")})
    planner = role_set.get("planner")
    assert planner is not None and planner.source == ".github/chatmodes/planner.chatmode.md"
    assert planner.warnings == ()
    assert Shadowing("planner", planner.source, "builtin") in role_set.shadowed


def test_the_role_directories_in_precedence_order() -> None:
    assert ROLE_DIRS == (".github/agents", ".github/chatmodes", ".claude/agents")


@pytest.mark.parametrize(
    "name", ["run_in_terminal", "runInTerminal", "run-in-terminal", "RUNINTERMINAL"]
)
def test_snake_and_camel_spellings_of_one_tool_mean_the_same(name: str) -> None:
    text = f"---\ndescription: d\ntools: ['{name}']\n---\nB\n"
    assert load_role_text(text, ".github/chatmodes/x.chatmode.md").tools == {"Bash", *READ_ONLY}
