"""Which roles a repository gets: precedence, shadowing, broken files, and the built-ins."""

from __future__ import annotations

from agents.roles.loader import (
    RoleFileError,
    Shadowing,
    builtin_roles,
    discover_roles,
    load_role_text,
)


def role_file(name: str, description: str, tools: str = "Read") -> str:
    return f"---\nname: {name}\ndescription: {description}\ntools: {tools}\n---\nBe {name}.\n"


def test_precedence_github_then_claude_then_builtins_with_shadowing_recorded() -> None:
    files = {
        ".claude/agents/implementer.md": role_file("implementer", "claude implementer"),
        ".github/agents/implementer.agent.md": role_file("implementer", "copilot implementer"),
        ".claude/agents/reviewer.md": role_file("reviewer", "our reviewer"),
        ".claude/agents/docs.md": role_file("docs", "docs writer"),
        ".github/agents/triage.md": role_file("triage", "plain .md in .github/agents"),
    }
    role_set = discover_roles(files)
    assert [(role.name, role.source) for role in role_set.roles] == [
        ("implementer", ".github/agents/implementer.agent.md"),
        ("triage", ".github/agents/triage.md"),
        ("docs", ".claude/agents/docs.md"),
        ("reviewer", ".claude/agents/reviewer.md"),
        ("fixer", "builtin"),
        ("planner", "builtin"),
    ]
    assert role_set.shadowed == (
        Shadowing(
            "implementer", ".github/agents/implementer.agent.md", ".claude/agents/implementer.md"
        ),
        Shadowing("implementer", ".github/agents/implementer.agent.md", "builtin"),
        Shadowing("reviewer", ".claude/agents/reviewer.md", "builtin"),
    )
    assert role_set.errors == ()
    implementer = role_set.get("implementer")
    assert implementer is not None
    assert implementer.description == "copilot implementer"
    assert implementer.format == "copilot"


def test_an_unparseable_file_is_reported_and_skipped_while_the_rest_load() -> None:
    files = {
        ".claude/agents/broken.md": "---\nname: broken\ndescription: never closed\n",
        ".claude/agents/empty.md": "",
        ".claude/agents/good.md": role_file("good", "fine"),
    }
    role_set = discover_roles(files)
    assert role_set.errors == (
        RoleFileError(
            ".claude/agents/broken.md",
            "the frontmatter opened with '---' on line 1 is never closed (add a line '---' "
            "after the last setting)",
        ),
        RoleFileError(".claude/agents/empty.md", "the file is empty"),
    )
    assert role_set.get("broken") is None
    assert role_set.names() == ["good", "fixer", "implementer", "planner", "reviewer"]


def test_files_outside_the_agent_directories_are_not_roles() -> None:
    files = {
        "docs/agents/x.md": role_file("x", "not a role dir"),
        ".claude/agents/nested/deep.md": role_file("deep", "subdirectories are not read"),
        ".claude/agents/README.md": "# How our agents work\n",
        ".claude/agents/notes.txt": "not markdown",
        ".github/copilot-instructions.md": "# Instructions\n",
        "./.claude/agents/dot.md": role_file("dot", "leading ./ is fine"),
        ".github\\agents\\win.agent.md": role_file("win", "backslashes are fine"),
    }
    role_set = discover_roles(files, builtins=[])
    assert [(role.name, role.source) for role in role_set.roles] == [
        ("win", ".github/agents/win.agent.md"),
        ("dot", ".claude/agents/dot.md"),
    ]


def test_two_files_in_one_directory_naming_one_role_first_path_wins() -> None:
    files = {
        ".claude/agents/b.md": role_file("same", "from b"),
        ".claude/agents/a.md": role_file("same", "from a"),
    }
    role_set = discover_roles(files, builtins=[])
    assert [role.source for role in role_set.roles] == [".claude/agents/a.md"]
    assert role_set.shadowed == (Shadowing("same", ".claude/agents/a.md", ".claude/agents/b.md"),)


def test_get_is_by_slug() -> None:
    files = {".github/agents/x.agent.md": role_file("Code Reviewer", "display name")}
    role_set = discover_roles(files, builtins=[])
    assert role_set.names() == ["code-reviewer"]
    assert role_set.get("Code Reviewer") is role_set.get("code-reviewer") is not None
    assert role_set.get("nobody") is None


def test_builtin_roles_are_well_formed_and_say_what_they_may_do() -> None:
    roles = {role.name: role for role in builtin_roles()}
    assert sorted(roles) == ["fixer", "implementer", "planner", "reviewer"]
    default = {"Bash", "Read", "Write", "Edit", "Glob", "Grep", "TodoWrite"}
    assert roles["implementer"].tools == default
    assert roles["fixer"].tools == default
    assert roles["planner"].tools == {"Read", "Glob", "Grep"}
    # The reviewer reads the diff in its brief: Rolecall has no Changes tool.
    assert roles["reviewer"].tools == {"Read", "Glob", "Grep"}
    assert [name for name, role in sorted(roles.items()) if role.can_write] == [
        "fixer",
        "implementer",
    ]
    for role in roles.values():
        assert role.source == "builtin"
        assert role.format == "claude-code"
        assert role.warnings == ()
        assert role.model is None
        assert role.description
        text = role.instructions.lower()
        assert "untrusted" in text
        assert "no network" in text
        assert "no credentials" in text


def test_builtin_roles_returns_a_fresh_list() -> None:
    first = builtin_roles()
    first.clear()
    assert len(builtin_roles()) == 4


def test_a_repository_file_can_redefine_a_builtin() -> None:
    text = role_file("reviewer", "stricter reviewer", tools="Read, Grep")
    role_set = discover_roles({".claude/agents/reviewer.md": text})
    reviewer = role_set.get("reviewer")
    assert reviewer == load_role_text(text, ".claude/agents/reviewer.md")
    assert reviewer is not None
    assert reviewer.tools == {"Read", "Grep", "Glob"}
