"""Role files of every shape teams actually commit -> the Role Rolecall will run."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.roles.loader import (
    CREDENTIAL_WARNING,
    Handoff,
    Role,
    RoleError,
    load_role_file,
    load_role_text,
    normalize_model,
)

FIXTURES = Path(__file__).parent / "role_files"
DEFAULT = {"Bash", "Read", "Write", "Edit", "Glob", "Grep", "TodoWrite"}
READ_ONLY = {"Read", "Glob", "Grep"}


def load(name: str) -> Role:
    return load_role_file(FIXTURES / name)


# ---- Claude Code files -------------------------------------------------------------------


def test_comma_separated_tools_alias_model_and_limits() -> None:
    role = load("string-tools.md")
    assert role.name == "test-runner"
    assert role.format == "claude-code"
    assert role.description == "Runs the test suite and explains failures."
    assert role.tools == {"Bash", "Read", "Grep", "Glob", "TodoWrite"}
    assert role.ignored_tools == ()
    assert role.model == "sonnet"
    assert role.max_turns == 20
    assert role.permission_mode == "acceptEdits"
    assert role.warnings == ()
    assert role.instructions == "You run the tests and explain each failure."
    assert role.can_write


def test_yaml_list_tools_with_disallowed_tools_and_full_model_id() -> None:
    role = load("list-tools.md")
    # MultiEdit is Edit; WebFetch is kept for the runtime to allow or not; reading is
    # granted even though Grep was disallowed.
    assert role.tools == {"Read", "Write", "Edit", "WebFetch", "Glob", "Grep"}
    assert role.model == "claude-haiku-4-5"
    assert role.description == "Writes and fixes documentation.\nUse it for README and guides."
    assert role.warnings == ("disallowed tool 'Grep' kept: reading is always allowed",)


def test_generated_one_line_description_that_strict_yaml_rejects() -> None:
    role = load("generated.md")
    assert role.name == "code-reviewer"
    assert role.description == (
        "Use this agent when the user has finished a piece of code and wants it reviewed. "
        "Examples: <example>Context: The user just wrote a parser.\n"
        'user: "I added the parser, can you check it?"\n'
        'assistant: "I\'ll use the code-reviewer agent to review it."\n'
        "<commentary>Code was written, so review it.</commentary></example>"
    )
    assert role.tools == {"Read", "Grep", "Glob", "Bash"}
    assert role.model == "inherit"
    assert role.warnings == (
        "frontmatter is not valid YAML (line 3: mapping values are not allowed here); "
        "read it line by line",
    )
    assert (
        role.instructions == "You are a meticulous reviewer.\n\nPoint out bugs first, style last."
    )


def test_description_continued_over_lines_that_look_like_keys() -> None:
    role = load("generated-multiline.md")
    assert role.description == (
        "Use this agent when a test fails and the cause is unclear.\n"
        "Examples:\n<example>\nContext: CI is red after a merge.\n"
        'user: "the build broke"\nassistant: "Let me use the bug-hunter agent."\n</example>'
    )
    # The keys after the description are still read as keys.
    assert role.tools == {"Read", "Grep", "Glob", "Bash", "Edit"}
    assert role.model == "opus"
    assert role.warnings == (
        "frontmatter is not valid YAML (line 4: mapping values are not allowed here); "
        "read it line by line",
    )


def test_block_scalar_description_and_flow_list_tools_are_plain_yaml() -> None:
    role = load("block-description.md")
    assert role.description == (
        "Moves code from one API to another.\n\n<example>\nContext: a deprecated call\n"
        'user: "replace the old client"\n</example>'
    )
    assert role.tools == {"Read", "Edit", "Bash", "Glob", "Grep"}
    assert role.model is None
    assert role.warnings == ()


def test_tabs_in_frontmatter_are_read_leniently() -> None:
    role = load("tabs.md")
    assert role.tools == {"Read", "Bash", "Glob", "Grep"}
    assert role.warnings == (
        "frontmatter is not valid YAML (line 5: found character '\\t' that cannot start any "
        "token); read it line by line",
    )


def test_crlf_and_byte_order_mark() -> None:
    text = (
        "\ufeff---\r\nname: crlf-role\r\ndescription: Written on Windows\r\n"
        "tools: Read, Edit\r\n---\r\nLine one.\r\nLine two.\r\n"
    )
    role = load_role_text(text, ".claude/agents/crlf-role.md")
    assert role.name == "crlf-role"
    assert role.description == "Written on Windows"
    assert role.tools == {"Read", "Edit", "Glob", "Grep"}
    assert role.instructions == "Line one.\nLine two."
    assert role.warnings == ()


def test_non_utf8_bytes_are_replaced_and_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "latin.md"
    path.write_bytes(b"---\nname: latin\ndescription: caf\xe9 helper\n---\nBody \xff.\n")
    role = load_role_file(path)
    assert role.name == "latin"
    assert role.description == "caf\ufffd helper"
    assert role.tools == DEFAULT
    assert role.warnings == ("file is not valid UTF-8; unreadable bytes were replaced",)


def test_missing_name_and_description_fall_back_with_warnings() -> None:
    role = load_role_text("---\ntools: Read\n---\nDo things.\n", ".claude/agents/Helper.md")
    assert role.name == "helper"
    assert role.description == ""
    assert role.warnings == (
        "no 'name' in the frontmatter; named 'helper' after the file",
        "no 'description' in the frontmatter",
    )


def test_empty_tools_list_grants_reading_only() -> None:
    role = load("read-only.md")
    assert role.tools == READ_ONLY
    assert not role.can_write
    assert role.warnings == ()


def test_plan_permission_mode_leaves_a_role_that_cannot_write() -> None:
    role = load("plan-mode.md")
    assert role.permission_mode == "plan"
    assert role.tools == {"Read", "Glob", "Grep", "TodoWrite"}
    assert not role.can_write


def test_unknown_and_unsupported_tools_are_reported_not_fatal() -> None:
    role = load("unknown-tools.md")
    assert role.tools == {"Read", "Edit", "Glob", "Grep"}
    assert role.ignored_tools == (
        "Frobnicate",
        "Task",
        "mcp__jira__search",
        "NotebookEdit",
        "Bash(npm test:*)",
    )
    assert role.warnings == (
        "unknown tool 'Frobnicate' ignored",
        "tool 'Task' ignored: roles cannot start other agents",
        "tool 'mcp__jira__search' ignored: MCP servers are not available to roles",
        "tool 'NotebookEdit' ignored: notebooks are not supported",
        "tool 'Bash(npm test:*)' ignored: Rolecall cannot limit Bash to some uses, "
        "so it does not grant Bash",
    )


def test_provider_model_spec_is_kept_for_the_resolver() -> None:
    role = load("local-model.md")
    assert role.model == "ollama,qwen2.5-coder:7b"
    assert role.tools == {"Read", "Edit", "Glob", "Grep"}
    assert role.warnings == ()


def test_bad_max_turns_and_permission_mode_are_warned_about() -> None:
    text = "---\nname: x\ndescription: d\nmaxTurns: lots\npermissionMode: yolo\n---\nBody\n"
    role = load_role_text(text, ".claude/agents/x.md")
    assert role.max_turns is None
    assert role.permission_mode == "yolo"
    assert role.warnings == (
        "maxTurns 'lots' is not a positive whole number; ignored",
        "unknown permissionMode 'yolo'",
    )


@pytest.mark.parametrize(
    ("value", "budget", "warning"),
    [
        ("8000", 8000, None),
        ("'16000'", 16000, None),
        ("512", None, "thinking 512 is not a budget in tokens from 1024 to 128000"),
        ("lots", None, "thinking 'lots' is not a budget in tokens from 1024 to 128000"),
        ("true", None, "thinking True is not a budget in tokens from 1024 to 128000"),
        ("{budget_tokens: 8000}", None, "thinking a dict is not a budget in tokens"),
    ],
)
def test_thinking_sets_a_budget_in_tokens_and_odd_values_are_warned_about(
    value: str, budget: int | None, warning: str | None
) -> None:
    role = load_role_text(
        f"---\nname: x\ndescription: d\nthinking: {value}\n---\nBody\n", ".claude/agents/x.md"
    )
    assert role.thinking == budget
    if warning is None:
        assert role.warnings == ()
    else:
        [said] = role.warnings
        assert said.startswith(warning) and said.endswith("(e.g. `thinking: 8000`); ignored")


# ---- Copilot files -----------------------------------------------------------------------


def test_copilot_agent_with_tool_sets_model_list_handoffs_and_target() -> None:
    role = load("planner.agent.md")
    assert role.name == "planner"  # from the file name: the file has no `name`
    assert role.format == "copilot"
    assert role.description == "Generate an implementation plan for new features or refactoring."
    assert role.tools == {"Glob", "Grep", "WebFetch", "Read", "Changes"}
    assert role.ignored_tools == ("problems", "githubRepo")
    assert role.model == "claude-haiku-4-5"  # the first of the list, display name -> id
    assert role.target == "vscode"
    assert role.handoffs == (
        Handoff(
            agent="implementer",
            label="Start implementation",
            prompt="Implement the plan above.",
            send=False,
        ),
    )
    assert role.warnings == (
        "tool 'problems' ignored: Rolecall has no editor diagnostics; run the linter with "
        "Bash instead",
        "tool 'githubRepo' ignored: the agent has no GitHub access and no network",
    )
    assert not role.can_write
    assert role.instructions.startswith("# Planning instructions\n")


def test_copilot_aliases_mcp_tools_and_a_non_anthropic_model() -> None:
    role = load("security-fixer.agent.md")
    assert role.name == "security-fixer"
    # `Execute` (any case) is Bash; Copilot's `edit` creates files too.
    assert role.tools == {"Bash", "Edit", "Write", "TodoWrite", "Changes", "Read", "Glob", "Grep"}
    assert role.ignored_tools == ("github/*", "playwright/navigate")
    # Kept as written, so that resolving it says whose model it is (tests/agents/
    # test_model_resolve.py); the loader itself has nothing to add.
    assert role.model == "GPT-5"
    assert role.warnings == (
        "tool 'github/*' ignored: MCP servers are not available to roles",
        "tool 'playwright/navigate' ignored: MCP servers are not available to roles",
    )


def test_a_copilot_model_list_runs_on_the_first_model_rolecall_can_serve() -> None:
    role = load("fallback.agent.md")
    assert role.name == "fallback-builder"
    # Copilot tries the list in order; GPT-5.3-Codex is not Rolecall's to serve.
    assert role.model == "claude-sonnet-4-6"
    assert role.tools == DEFAULT
    assert role.warnings == ()


def test_copilot_comma_string_tools_and_display_model_name() -> None:
    role = load("sonnet-display.agent.md")
    assert role.name == "sonnet-display"
    assert role.tools == {"Bash", "Edit", "Write", "Glob", "Grep", "Read"}
    assert role.model == "claude-sonnet-4-5"
    assert role.warnings == ()


def test_copilot_format_is_recognised_from_the_directory_too() -> None:
    role = load_role_text("---\ndescription: d\ntools: [edit]\n---\nBody\n", ".github/agents/a.md")
    assert role.format == "copilot"
    assert role.tools == {"Edit", "Write", "Read", "Glob", "Grep"}


def test_fmt_hint_overrides_the_guess() -> None:
    text = "---\nname: x\ndescription: d\ntools: Edit\n---\nBody\n"
    assert load_role_text(text, "x.agent.md", fmt_hint="claude-code").tools == {
        "Edit",
        "Read",
        "Glob",
        "Grep",
    }
    assert load_role_text(text, "x.md", fmt_hint="copilot").tools == {
        "Edit",
        "Write",
        "Read",
        "Glob",
        "Grep",
    }
    with pytest.raises(ValueError, match="fmt_hint"):
        load_role_text(text, "x.md", fmt_hint="cursor")


def test_lenient_copilot_file_keeps_its_nested_lists() -> None:
    role = load("lenient-copilot.agent.md")
    assert role.name == "triage"
    assert role.description == "Sorts new issues. Use it when: an issue arrives"
    assert role.tools == {"Read", "Glob", "Grep"}
    assert role.model == "claude-haiku-4-5"
    assert role.handoffs == (
        Handoff(agent="implementer", label="Fix it", prompt="Fix the issue triaged above."),
    )
    assert role.warnings == (
        "frontmatter is not valid YAML (line 3: mapping values are not allowed here); "
        "read it line by line",
    )


# ---- Plain markdown ----------------------------------------------------------------------


def test_plain_markdown_is_named_after_its_first_heading_with_default_tools() -> None:
    role = load("plain.md")
    assert role.name == "release-notes-writer"
    assert role.format == "markdown"
    assert role.description == "Reads the merged pull requests and drafts release notes."
    assert role.tools == DEFAULT
    assert role.model is None
    assert role.warnings == ()
    assert role.instructions.startswith("# Release Notes Writer\n\nReads the merged")


def test_plain_markdown_without_heading_is_named_after_the_file() -> None:
    role = load_role_text("Just do the thing.\n", ".claude/agents/Do Thing.md")
    assert role.name == "do-thing"
    assert role.description == "Just do the thing."


# ---- Models ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "spec"),
    [
        (None, None),
        ("", None),
        ([], None),
        ("sonnet", "sonnet"),
        ("Opus", "opus"),
        ("inherit", "inherit"),
        ("claude-haiku-4-5", "claude-haiku-4-5"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
        ("Claude Haiku 4.5 (copilot)", "claude-haiku-4-5"),
        ("Claude Sonnet 4.5", "claude-sonnet-4-5"),
        ("Claude Opus 4.1 (Preview)", "claude-opus-4-1"),
        (["Claude Sonnet 4 (copilot)", "GPT-5 (copilot)"], "claude-sonnet-4-0"),
        ("Claude Opus 5 (copilot)", "claude-opus-5"),
        ("Claude 4.6 Sonnet", "claude-sonnet-4-6"),
        ("claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("Auto (copilot)", "inherit"),
        # Copilot tries the list in order; Rolecall takes the first it can serve.
        (["GPT-5.3-Codex", "Claude Sonnet 4.6 (copilot)"], "claude-sonnet-4-6"),
        (["GPT-5.4 (copilot)", "Gemini 2.5 Pro", "sonnet"], "sonnet"),
        # Nothing servable: the first name stays, for the resolver to explain.
        (["GPT-5.6 Luna", "GPT-5 mini"], "GPT-5.6 Luna"),
        ("GPT-4.1 (copilot)", "GPT-4.1"),
        ("my-finetune", "my-finetune"),
        ("ollama,qwen2.5-coder:7b", "ollama,qwen2.5-coder:7b"),
        ("ollama , llama3 ", "ollama,llama3"),
    ],
)
def test_model_specs_are_normalised_without_warnings(value: object, spec: str | None) -> None:
    assert normalize_model(value) == (spec, ())


@pytest.mark.parametrize(
    ("value", "spec", "warning"),
    [
        (
            "Claude Haiku 4.6 (copilot)",
            None,
            "model 'Claude Haiku 4.6 (copilot)' is not in Rolecall's model table (the closest "
            "model it knows is claude-haiku-4-5); the role runs on the default model "
            "(ROLECALL_MODEL)",
        ),
        (
            ["Claude Sonnet 3.7 Thinking", "GPT-4.1", "Claude Opus 4.1"],
            "claude-opus-4-1",
            "model 'Claude Sonnet 3.7 Thinking' is not in Rolecall's model table (the "
            "closest model it knows is claude-sonnet-4-0); the role runs on claude-opus-4-1",
        ),
        (
            # An unknown Claude name is what its author wanted: the default Claude model
            # serves that better than refusing because of another vendor's fallback.
            ["GPT-5.4 (copilot)", "Claude Haiku 4.6 (copilot)", "GPT-5.4-mini (copilot)"],
            None,
            "model 'Claude Haiku 4.6 (copilot)' is not in Rolecall's model table (the closest "
            "model it knows is claude-haiku-4-5); the role runs on the default model "
            "(ROLECALL_MODEL)",
        ),
    ],
)
def test_an_unknown_claude_name_names_the_closest_known_id_and_is_never_invented(
    value: object, spec: str | None, warning: str
) -> None:
    assert normalize_model(value) == (spec, (warning,))


def test_a_chat_mode_with_an_unknown_claude_model_says_so_and_still_loads() -> None:
    text = "---\ndescription: d\nmodel: Claude Sonnet 3.5\n---\nDebug it.\n"
    role = load_role_text(text, ".github/chatmodes/debug.chatmode.md")
    assert (role.name, role.model) == ("debug", None)
    assert role.warnings == (
        "model 'Claude Sonnet 3.5' is not in Rolecall's model table (the closest model it "
        "knows is claude-sonnet-4-0); the role runs on the default model (ROLECALL_MODEL)",
    )


# ---- Credentials -------------------------------------------------------------------------

# Assembled at run time so the repository holds no credential-shaped literal.
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5" * 4
ANTHROPIC_KEY = "sk-ant-api03-" + "Zx9_" * 10
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPL2"
JWT = "eyJ" + "hbGciOiJIUzI1NiJ9" + ".eyJ" + "zdWIiOiIxMjM0NTY3ODkwIn0" + ".c2lnbmF0dXJlLXZhbHVl"
PEM = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEabc\ndef==\n-----END RSA PRIVATE KEY-----"


def test_credentials_in_a_role_file_are_found_and_warned_about_once() -> None:
    text = (
        f"---\nname: leaky\ndescription: uses {GITHUB_TOKEN} to call the API\n---\n"
        f"Use ANTHROPIC_API_KEY={ANTHROPIC_KEY} and {AWS_KEY}.\n"
        f"Send Authorization: Bearer {JWT}\n{PEM}\nAgain: {GITHUB_TOKEN}\n"
    )
    role = load_role_text(text, ".claude/agents/leaky.md")
    assert role.secrets == (GITHUB_TOKEN, ANTHROPIC_KEY, AWS_KEY, JWT, PEM)
    assert role.warnings == (CREDENTIAL_WARNING,)
    assert CREDENTIAL_WARNING == "role file contains a credential (redacted)"
    redacted = role.redact(role.instructions + role.description)
    assert all(secret not in redacted for secret in role.secrets)
    assert "[REDACTED]" in redacted


def test_plain_markdown_credentials_are_found_too() -> None:
    role = load_role_text(f"# Deployer\n\ntoken: {GITHUB_TOKEN}\n", "deployer.md")
    assert role.secrets == (GITHUB_TOKEN,)
    assert role.warnings == (CREDENTIAL_WARNING,)


def test_ordinary_text_has_no_credentials() -> None:
    role = load("generated.md")
    assert role.secrets == ()


def test_settings_of_the_wrong_shape_are_ignored_without_expanding_them() -> None:
    # A YAML alias bomb: a few hundred bytes that expand to 9**8 entries if printed.
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefg", "bcdefgh", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    text = (
        "---\nname: bomb\n" + "\n".join(levels) + "\ndescription: *h\ntools: *h\n"
        "model: *h\nmaxTurns: *h\nhandoffs: *h\n---\nBody\n"
    )
    role = load_role_text(text, ".claude/agents/bomb.md")
    assert role.tools == READ_ONLY
    assert role.model is None
    assert role.warnings == (
        "'description' must be text, not a list; ignored",
        "tools entry a list is not a tool name; ignored",
        "model must be a name or a list of names, not a list; ignored",
        "maxTurns a list is not a positive whole number; ignored",
        "handoff a list has no 'agent'; ignored",
    )


def test_frontmatter_nested_too_deeply_is_a_role_error() -> None:
    text = "---\nname: deep\ndescription: " + "[" * 5000 + "]" * 5000 + "\n---\nBody\n"
    with pytest.raises(RoleError, match="nested too deeply"):
        load_role_text(text, ".claude/agents/deep.md")


# ---- Files that cannot be read -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the file is empty"),
        ("\n  \n", "the file is empty"),
        (
            "---\nname: x\n",
            "the frontmatter opened with '---' on line 1 is never closed (add a line '---' "
            "after the last setting)",
        ),
        (
            "---\n- a\n- b\n---\nBody\n",
            "frontmatter is not a list of 'key: value' settings, and no line in it starts "
            "with a setting Rolecall knows (such as 'name:', 'description:' or 'tools:')",
        ),
        ("x" * 100_001, "the file has 100001 characters; a role may have at most 100000"),
    ],
)
def test_unreadable_text_raises_role_error_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(RoleError) as caught:
        load_role_text(text, ".claude/agents/x.md")
    assert caught.value.reason == reason


def test_unreadable_fixture_files() -> None:
    with pytest.raises(RoleError, match="never closed"):
        load("unclosed.md")
    with pytest.raises(RoleError) as caught:
        load("no-known-keys.md")
    assert caught.value.reason == (
        "frontmatter is not valid YAML (line 3: mapping values are not allowed here), and no "
        "line in it starts with a setting Rolecall knows (such as 'name:', 'description:' or "
        "'tools:')"
    )


def test_a_missing_file_is_a_role_error(tmp_path: Path) -> None:
    with pytest.raises(RoleError, match="cannot read the file"):
        load_role_file(tmp_path / "nope.md")
