"""Every tool spelling from Claude Code and Copilot files -> Rolecall's tools."""

from __future__ import annotations

import pytest

from agents.roles.tools import (
    DEFAULT_TOOLS,
    READ_ONLY_TOOLS,
    RoleFormat,
    map_tool_name,
    select_tools,
    split_tool_string,
)


@pytest.mark.parametrize(
    ("name", "fmt", "tools"),
    [
        # Claude Code names.
        ("Bash", "claude-code", {"Bash"}),
        ("Read", "claude-code", {"Read"}),
        ("Write", "claude-code", {"Write"}),
        ("Edit", "claude-code", {"Edit"}),
        ("MultiEdit", "claude-code", {"Edit"}),
        ("Glob", "claude-code", {"Glob"}),
        ("Grep", "claude-code", {"Grep"}),
        ("LS", "claude-code", {"Glob"}),
        ("TodoWrite", "claude-code", {"TodoWrite"}),
        ("WebFetch", "claude-code", {"WebFetch"}),
        ("WebSearch", "claude-code", {"WebFetch"}),
        ("Read(./src/**)", "claude-code", {"Read"}),
        # Copilot / VS Code names, any case.
        ("execute", "copilot", {"Bash"}),
        ("runCommands", "copilot", {"Bash"}),
        ("runTasks", "copilot", {"Bash"}),
        ("runInTerminal", "copilot", {"Bash"}),
        ("shell", "copilot", {"Bash"}),
        ("edit", "copilot", {"Edit", "Write"}),
        ("Edit", "copilot", {"Edit", "Write"}),
        ("editFiles", "copilot", {"Edit", "Write"}),
        ("search", "copilot", {"Glob", "Grep"}),
        ("usages", "copilot", {"Glob", "Grep"}),
        ("codebase", "copilot", {"Glob", "Grep"}),
        ("read", "copilot", {"Read"}),
        ("readFile", "copilot", {"Read"}),
        ("todo", "copilot", {"TodoWrite"}),
        ("todos", "copilot", {"TodoWrite"}),
        ("changes", "copilot", {"Changes"}),
        ("fetch", "copilot", {"WebFetch"}),
        ("web", "copilot", {"WebFetch"}),
        ("RUNCOMMANDS", "copilot", {"Bash"}),
        # VS Code tool-set qualified names.
        ("edit/editFiles", "copilot", {"Edit", "Write"}),
        ("execute/runInTerminal", "copilot", {"Bash"}),
        ("search/changes", "copilot", {"Changes"}),
        ("web/fetch", "copilot", {"WebFetch"}),
        ("edit/*", "copilot", {"Edit", "Write"}),
        ("*", "copilot", set(DEFAULT_TOOLS)),
    ],
)
def test_known_names_map_onto_rolecall_tools(name: str, fmt: RoleFormat, tools: set[str]) -> None:
    assert map_tool_name(name, fmt=fmt) == (tools, "")


@pytest.mark.parametrize(
    ("name", "warning"),
    [
        ("Frobnicate", "unknown tool 'Frobnicate' ignored"),
        (
            "problems",
            "tool 'problems' ignored: Rolecall has no editor diagnostics; run the "
            "linter with Bash instead",
        ),
        (
            "read/problems",
            "tool 'read/problems' ignored: Rolecall has no editor diagnostics; run "
            "the linter with Bash instead",
        ),
        ("githubRepo", "tool 'githubRepo' ignored: the agent has no GitHub access and no network"),
        ("Task", "tool 'Task' ignored: roles cannot start other agents"),
        ("Task(reviewer)", "tool 'Task(reviewer)' ignored: roles cannot start other agents"),
        ("agent/runSubagent", "tool 'agent/runSubagent' ignored: roles cannot start other agents"),
        (
            "mcp__github__create_issue",
            "tool 'mcp__github__create_issue' ignored: MCP servers are not available to roles",
        ),
        ("github/*", "tool 'github/*' ignored: MCP servers are not available to roles"),
        (
            "Bash(git diff:*)",
            "tool 'Bash(git diff:*)' ignored: Rolecall cannot limit Bash to "
            "some uses, so it does not grant Bash",
        ),
        (
            "Edit(docs/**)",
            "tool 'Edit(docs/**)' ignored: Rolecall cannot limit Edit to some "
            "uses, so it does not grant Edit",
        ),
        ("Nope(x)", "unknown tool 'Nope(x)' ignored"),
    ],
)
def test_names_we_cannot_honour_come_back_with_a_reason(name: str, warning: str) -> None:
    assert map_tool_name(name, fmt="claude-code") == (None, warning)


def test_no_tools_field_grants_every_default_tool() -> None:
    selection = select_tools(None)
    assert selection.tools == DEFAULT_TOOLS
    assert set(selection.tools) == {"Bash", "Read", "Write", "Edit", "Glob", "Grep", "TodoWrite"}
    assert selection.ignored == ()
    assert selection.warnings == ()


@pytest.mark.parametrize("empty", [[], ""])
def test_an_empty_tools_field_grants_reading_only(empty: object) -> None:
    assert select_tools(empty).tools == READ_ONLY_TOOLS == {"Read", "Glob", "Grep"}


def test_reading_is_always_granted() -> None:
    assert select_tools(["Bash"]).tools == {"Bash", "Read", "Glob", "Grep"}


def test_a_tools_field_of_the_wrong_type_grants_reading_only() -> None:
    selection = select_tools({"Bash": True})
    assert selection.tools == READ_ONLY_TOOLS
    assert selection.warnings == (
        "tools must be a list or a comma-separated string, not a dict; granting reading only",
    )


def test_disallowed_tools_remove_and_cannot_remove_reading() -> None:
    selection = select_tools(None, "Bash, Read, WebFetch, Bogus")
    assert selection.tools == {"Write", "Edit", "Read", "Glob", "Grep", "TodoWrite"}
    assert selection.warnings == (
        "disallowed tool 'Read' kept: reading is always allowed",
        "unknown disallowed tool 'Bogus' ignored",
    )


def test_disallowing_part_of_a_tool_removes_all_of_it() -> None:
    selection = select_tools(["Bash", "Edit"], ["Bash(rm:*)"])
    assert selection.tools == {"Edit", "Read", "Glob", "Grep"}
    assert selection.warnings == (
        "disallowed tool 'Bash(rm:*)': only some uses cannot be denied, so Bash is removed "
        "entirely",
    )


def test_copilot_edit_disallowed_removes_write_too() -> None:
    assert select_tools(None, ["edit"], fmt="copilot").tools == {
        "Bash",
        "Read",
        "Glob",
        "Grep",
        "TodoWrite",
    }


def test_ignored_names_are_reported_once_in_order() -> None:
    selection = select_tools(["problems", "Read", "problems", "Zap", 7])
    assert selection.ignored == ("problems", "Zap")
    assert selection.warnings == (
        "tools entry 7 is not a tool name; ignored",
        "tool 'problems' ignored: Rolecall has no editor diagnostics; run the linter with "
        "Bash instead",
        "unknown tool 'Zap' ignored",
    )


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Read, Grep, Glob", ["Read", "Grep", "Glob"]),
        ("Read,Grep", ["Read", "Grep"]),
        ("Read Grep Glob", ["Read", "Grep", "Glob"]),
        ("Bash(git diff:*, git log:*), Read", ["Bash(git diff:*, git log:*)", "Read"]),
        (" , Read ,, ", ["Read"]),
    ],
)
def test_comma_separated_tool_strings(text: str, names: list[str]) -> None:
    assert split_tool_string(text) == names
