"""The agent's tools as the model sees them: inputs, outputs, errors it can act on.

Bash goes through a real bubblewrap sandbox; the file tools run on the host. Path
confinement has its own file, test_tools_confinement.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from agents.sandbox.bubblewrap import BWRAP_MISSING, BwrapSandbox
from agents.text.capping import StreamCap, cap_text
from agents.tools.result import ToolResult
from agents.tools.toolbox import DEFAULT_TOOLS, CommandRecord, Toolbox

pytestmark = pytest.mark.bwrap


@pytest.fixture(autouse=True)
def tools_bwrap_installed() -> None:
    if shutil.which("bwrap") is None:
        pytest.fail(f"{BWRAP_MISSING} (tool tests need it and are never skipped)")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Host", "-c", "user.email=host@example.invalid", *args],
        cwd=cwd,
        capture_output=True,
        check=True,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1"},
    )


@pytest.fixture
def tools_worktree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    print('hello')\n    return 0\n")
    (root / "src" / "util.py").write_text("def helper():\n    return 'HELLO'\n")
    (root / "README.md").write_text("# Project\n\nSay hello.\n")
    (root / ".gitignore").write_text("*.log\nbuild/\n")
    (root / "debug.log").write_text("hello from an ignored file\n")
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text("hello = 'generated'\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "initial")
    (root / "notes.txt").write_text("untracked hello\n")  # untracked but not ignored
    return root


@pytest.fixture
def toolbox(tools_worktree: Path) -> Toolbox:
    return Toolbox(tools_worktree, BwrapSandbox(tools_worktree))


def ok(result: ToolResult) -> str:
    assert not result.is_error, result.content
    return result.content


def err(result: ToolResult) -> str:
    assert result.is_error, result.content
    return result.content


# -- the toolbox ---------------------------------------------------------------------------


def test_specs_describe_only_the_allowed_tools(tools_worktree: Path) -> None:
    sandbox = BwrapSandbox(tools_worktree)
    every = Toolbox(tools_worktree, sandbox).specs()
    assert [spec["name"] for spec in every] == list(DEFAULT_TOOLS)
    for spec in every:
        assert set(spec) == {"name", "description", "input_schema"}
        assert spec["input_schema"]["type"] == "object"
        assert spec["description"]
    reader = Toolbox(tools_worktree, sandbox, allowed=("Read", "Grep", "Glob"))
    assert [spec["name"] for spec in reader.specs()] == ["Read", "Grep", "Glob"]
    read = next(s for s in every if s["name"] == "Read")["input_schema"]
    assert read["required"] == ["file_path"]
    assert set(read["properties"]) == {"file_path", "offset", "limit"}


def test_a_tool_the_role_lacks_is_refused(tools_worktree: Path) -> None:
    reader = Toolbox(tools_worktree, BwrapSandbox(tools_worktree), allowed=("Read",))
    result = reader.call("Write", {"file_path": "x.txt", "content": "x"})
    assert err(result) == "tool Write is not available to this role"
    assert not (tools_worktree / "x.txt").exists()
    assert "unknown tool" in err(reader.call("WebFetch", {"url": "https://example.com"}))


def test_unknown_tool_names_in_a_role_are_a_configuration_error(tools_worktree: Path) -> None:
    with pytest.raises(ValueError, match="WebSearch"):
        Toolbox(tools_worktree, BwrapSandbox(tools_worktree), allowed=("Read", "WebSearch"))


@pytest.mark.parametrize(
    ("name", "tool_input", "message"),
    [
        ("Read", {}, "missing required field 'file_path'"),
        ("Read", {"file_path": 7}, "field 'file_path' must be a string"),
        ("Read", {"file_path": "a", "offset": "ten"}, "field 'offset' must be an integer"),
        ("Read", {"file_path": "a", "limit": -1}, "field 'limit' must be at least 0"),
        ("Edit", {"file_path": "a", "old_string": "x"}, "missing required field 'new_string'"),
        ("Edit", {"file_path": "a", "old_string": "x", "new_string": "y", "replace_all": "yes"},
         "field 'replace_all' must be a boolean"),
        ("Bash", {"command": "ls", "cwd": "/"}, "unknown field 'cwd'"),
        ("Grep", {"pattern": "x", "output_mode": "lines"}, "field 'output_mode' must be one of"),
        ("Grep", {"pattern": "x", "-A": True}, "field '-A' must be an integer"),
        ("TodoWrite", {"todos": [{"content": "a", "status": "done"}]},
         "field 'todos[0].status' must be one of pending, in_progress, completed"),
        ("TodoWrite", {"todos": [{"status": "pending"}]},
         "missing required field 'content' in todos[0]"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field(
    toolbox: Toolbox, name: str, tool_input: dict[str, object], message: str
) -> None:
    content = err(toolbox.call(name, tool_input))
    assert content.startswith(f"invalid input for {name}: ")
    assert message in content


# -- Bash ----------------------------------------------------------------------------------


def test_bash_reports_output_and_exit_code(toolbox: Toolbox) -> None:
    assert ok(toolbox.call("Bash", {"command": "ls src", "description": "List"})) == (
        "app.py\nutil.py\nExit code: 0"
    )
    failed = toolbox.call("Bash", {"command": "echo oops >&2; exit 4"})
    assert err(failed) == "oops\nExit code: 4"
    assert ok(toolbox.call("Bash", {"command": "true"})) == "(no output)\nExit code: 0"
    assert toolbox.commands == [
        CommandRecord("ls src", 0, False),
        CommandRecord("echo oops >&2; exit 4", 4, False),
        CommandRecord("true", 0, False),
    ]


def test_a_command_is_stopped_at_the_job_deadline(tools_worktree: Path) -> None:
    toolbox = Toolbox(tools_worktree, BwrapSandbox(tools_worktree))
    toolbox.deadline = time.monotonic() + 1
    content = err(toolbox.call("Bash", {"command": "sleep 30"}))
    assert "the job's time limit was reached" in content
    assert toolbox.commands == [CommandRecord("sleep 30", 137, True)]
    after = err(toolbox.call("Bash", {"command": "echo late"}))
    assert after == "Not run: the job's time limit has been reached."
    assert len(toolbox.commands) == 1


def test_bash_timeout_is_capped_by_the_toolbox(tools_worktree: Path) -> None:
    toolbox = Toolbox(tools_worktree, BwrapSandbox(tools_worktree), command_timeout=1)
    result = toolbox.call("Bash", {"command": "sleep 30", "timeout": 600_000})
    content = err(result)
    assert "timed out after 1 s" in content
    assert content.endswith("Exit code: 137")
    assert toolbox.commands == [CommandRecord("sleep 30", 137, True)]


def test_bash_output_is_capped(toolbox: Toolbox) -> None:
    content = ok(toolbox.call("Bash", {"command": "seq 1 200000"}))
    assert len(content) < 31_000
    assert "characters omitted" in content
    assert content.startswith("1\n2\n")
    assert content.endswith("200000\nExit code: 0")


def test_bash_changes_are_visible_to_the_file_tools(toolbox: Toolbox) -> None:
    ok(toolbox.call("Bash", {"command": "echo generated > gen.txt"}))
    assert ok(toolbox.call("Read", {"file_path": "gen.txt"})) == "     1\tgenerated"


# -- Read ------------------------------------------------------------------------------------


def test_read_numbers_lines_like_cat_n(toolbox: Toolbox, tools_worktree: Path) -> None:
    expected = "     1\tdef main():\n     2\t    print('hello')\n     3\t    return 0"
    assert ok(toolbox.call("Read", {"file_path": "src/app.py"})) == expected
    absolute = str(tools_worktree / "src" / "app.py")
    assert ok(toolbox.call("Read", {"file_path": absolute})) == expected


def test_read_offset_and_limit(toolbox: Toolbox, tools_worktree: Path) -> None:
    (tools_worktree / "many.txt").write_text("".join(f"L{i}\n" for i in range(1, 3001)))
    part = ok(toolbox.call("Read", {"file_path": "many.txt", "offset": 10, "limit": 2}))
    assert part.splitlines() == [
        "    10\tL10",
        "    11\tL11",
        "… [file continues; read more with offset=12]",
    ]
    default = ok(toolbox.call("Read", {"file_path": "many.txt"})).splitlines()
    assert default[0] == "     1\tL1"
    assert default[1999] == "  2000\tL2000"
    assert default[2000] == "… [file continues; read more with offset=2001]"
    tail = ok(toolbox.call("Read", {"file_path": "many.txt", "offset": 2999}))
    assert tail == "  2999\tL2999\n  3000\tL3000"
    past = ok(toolbox.call("Read", {"file_path": "many.txt", "offset": 5000}))
    assert "has only 3000 lines" in past


def test_read_truncates_long_lines_and_caps_output(toolbox: Toolbox, tools_worktree: Path) -> None:
    (tools_worktree / "wide.txt").write_text("x" * 50_000 + "\nshort\n")
    wide = ok(toolbox.call("Read", {"file_path": "wide.txt"}))
    first, second = wide.splitlines()
    assert first.startswith("     1\txxxx") and first.endswith("[line truncated]")
    assert len(first) < 2100
    assert second == "     2\tshort"

    (tools_worktree / "big.txt").write_text(("y" * 100 + "\n") * 2000)
    big = ok(toolbox.call("Read", {"file_path": "big.txt"}))
    assert len(big) <= 30_000
    last = big.splitlines()[-1]
    assert last.startswith("… [output limit reached; continue with offset=")


@pytest.mark.parametrize(
    ("setup", "path", "message"),
    [
        (lambda root: None, "src", "is a directory, not a file; list it with Glob"),
        (lambda root: None, "nope.py", "does not exist (the working tree is"),
        (lambda root: (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
         "logo.png", "is a binary file"),
        (lambda root: os.mkfifo(root / "pipe"), "pipe", "is not a regular file"),
    ],
)  # fmt: skip
def test_read_errors_are_helpful(
    toolbox: Toolbox, tools_worktree: Path, setup: object, path: str, message: str
) -> None:
    setup(tools_worktree)  # type: ignore[operator]
    assert message in err(toolbox.call("Read", {"file_path": path}))


def test_read_empty_file(toolbox: Toolbox, tools_worktree: Path) -> None:
    (tools_worktree / "empty.txt").write_text("")
    assert "exists but is empty" in ok(toolbox.call("Read", {"file_path": "empty.txt"}))


# -- Write -----------------------------------------------------------------------------------


def test_write_creates_parents_and_reports(toolbox: Toolbox, tools_worktree: Path) -> None:
    created = ok(toolbox.call("Write", {"file_path": "docs/new/guide.md", "content": "a\nb\n"}))
    assert created == f"Created {tools_worktree}/docs/new/guide.md (2 lines, 4 bytes)"
    assert (tools_worktree / "docs/new/guide.md").read_text() == "a\nb\n"
    replaced = ok(toolbox.call("Write", {"file_path": "README.md", "content": "new"}))
    assert replaced == f"Overwrote {tools_worktree}/README.md (1 lines, 3 bytes)"
    assert (tools_worktree / "README.md").read_text() == "new"


def test_write_keeps_the_file_mode(toolbox: Toolbox, tools_worktree: Path) -> None:
    script = tools_worktree / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    ok(toolbox.call("Write", {"file_path": "run.sh", "content": "#!/bin/sh\necho hi\n"}))
    assert script.stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize(
    "path",
    [".git/hooks/pre-commit", ".git/config", ".git/info/attributes", "vendor/lib/.git/config"],
)
def test_write_into_git_directories_is_refused(
    toolbox: Toolbox, tools_worktree: Path, path: str
) -> None:
    before = (tools_worktree / ".git" / "config").read_bytes()
    assert "inside .git" in err(toolbox.call("Write", {"file_path": path, "content": "x"}))
    assert "inside .git" in err(
        toolbox.call("Edit", {"file_path": path, "old_string": "[core]", "new_string": "[x]"})
    )
    assert not (tools_worktree / ".git" / "hooks" / "pre-commit").exists()
    assert (tools_worktree / ".git" / "config").read_bytes() == before


def test_write_size_limits(tools_worktree: Path) -> None:
    sandbox = BwrapSandbox(tools_worktree)
    toolbox = Toolbox(tools_worktree, sandbox)
    huge = "z" * (10 * 1024**2 + 1)
    assert "limit per write" in err(
        toolbox.call("Write", {"file_path": "huge.txt", "content": huge})
    )
    assert not (tools_worktree / "huge.txt").exists()

    current = sum(p.stat().st_size for p in tools_worktree.rglob("*") if p.is_file())
    capped = Toolbox(tools_worktree, sandbox, max_worktree_bytes=current + 1000)
    ok(capped.call("Write", {"file_path": "small.txt", "content": "s" * 500}))
    refused = err(capped.call("Write", {"file_path": "large.txt", "content": "l" * 2000}))
    assert "size limit" in refused
    assert not (tools_worktree / "large.txt").exists()


def test_write_refuses_hard_linked_files(
    tmp_path: Path, toolbox: Toolbox, tools_worktree: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("original")
    os.link(outside, tools_worktree / "linked.txt")
    assert "hard links" in err(toolbox.call("Write", {"file_path": "linked.txt", "content": "x"}))
    assert outside.read_text() == "original"


# -- Edit ------------------------------------------------------------------------------------


def test_edit_replaces_a_unique_string(toolbox: Toolbox, tools_worktree: Path) -> None:
    result = ok(
        toolbox.call(
            "Edit",
            {
                "file_path": "src/app.py",
                "old_string": "print('hello')",
                "new_string": "print('bye')",
            },
        )
    )
    assert result.startswith(f"Edited {tools_worktree}/src/app.py: replaced 1 occurrence")
    assert "     2\t    print('bye')" in result  # a numbered snippet of the result
    assert (tools_worktree / "src/app.py").read_text() == (
        "def main():\n    print('bye')\n    return 0\n"
    )


def test_edit_refuses_ambiguous_and_missing_strings(toolbox: Toolbox, tools_worktree: Path) -> None:
    (tools_worktree / "dup.txt").write_text("x = 1\nx = 1\nx = 1\n")
    ambiguous = err(
        toolbox.call("Edit", {"file_path": "dup.txt", "old_string": "x = 1", "new_string": "x = 2"})
    )
    assert "found 3 matches" in ambiguous
    assert "add surrounding context" in ambiguous and "replace_all" in ambiguous
    missing = err(
        toolbox.call("Edit", {"file_path": "dup.txt", "old_string": "y = 1", "new_string": "y"})
    )
    assert "not found" in missing
    same = err(toolbox.call("Edit", {"file_path": "dup.txt", "old_string": "x", "new_string": "x"}))
    assert "identical" in same
    assert (tools_worktree / "dup.txt").read_text() == "x = 1\nx = 1\nx = 1\n"

    every = toolbox.call(
        "Edit",
        {"file_path": "dup.txt", "old_string": "x = 1", "new_string": "x = 2", "replace_all": True},
    )
    assert "replaced 3 occurrences" in ok(every)
    assert (tools_worktree / "dup.txt").read_text() == "x = 2\nx = 2\nx = 2\n"


def test_edit_missing_file_and_creation(toolbox: Toolbox, tools_worktree: Path) -> None:
    missing = toolbox.call("Edit", {"file_path": "nope.txt", "old_string": "a", "new_string": "b"})
    assert "use Write" in err(missing)
    created = toolbox.call("Edit", {"file_path": "fresh.txt", "old_string": "", "new_string": "hi"})
    assert ok(created).startswith("Created")
    assert (tools_worktree / "fresh.txt").read_text() == "hi"
    nonempty = toolbox.call("Edit", {"file_path": "fresh.txt", "old_string": "", "new_string": "x"})
    assert "old_string is empty" in err(nonempty)


# -- Glob ------------------------------------------------------------------------------------


def test_glob_sorts_newest_first_and_skips_ignored(toolbox: Toolbox, tools_worktree: Path) -> None:
    os.utime(tools_worktree / "src/app.py", (1_000_000, 1_000_000))
    os.utime(tools_worktree / "src/util.py", (2_000_000, 2_000_000))
    result = ok(toolbox.call("Glob", {"pattern": "**/*.py"}))
    assert result.splitlines() == [
        f"{tools_worktree}/src/util.py",
        f"{tools_worktree}/src/app.py",
    ]  # build/out.py is ignored by .gitignore
    everything = ok(toolbox.call("Glob", {"pattern": "**/*"})).splitlines()
    assert f"{tools_worktree}/notes.txt" in everything  # untracked files count
    assert not any("/.git/" in line or line.endswith(".log") for line in everything)


def test_glob_patterns_and_path(toolbox: Toolbox, tools_worktree: Path) -> None:
    top = ok(toolbox.call("Glob", {"pattern": "*.{md,txt}"})).splitlines()
    assert sorted(top) == [f"{tools_worktree}/README.md", f"{tools_worktree}/notes.txt"]
    inside = ok(toolbox.call("Glob", {"pattern": "*.py", "path": "src"})).splitlines()
    assert sorted(inside) == [f"{tools_worktree}/src/app.py", f"{tools_worktree}/src/util.py"]
    absolute = ok(toolbox.call("Glob", {"pattern": f"{tools_worktree}/src/a*.py"}))
    assert absolute == f"{tools_worktree}/src/app.py"
    assert ok(toolbox.call("Glob", {"pattern": "**/*.rs"})) == "No files found"
    assert "does not exist" in err(toolbox.call("Glob", {"pattern": "*", "path": "missing"}))


def test_glob_without_git_walks_the_tree(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    (plain / "a" / ".git").mkdir(parents=True)
    (plain / "a" / ".git" / "config").write_text("x")
    (plain / "a" / "b.txt").write_text("b")
    toolbox = Toolbox(plain, BwrapSandbox(plain))
    assert ok(toolbox.call("Glob", {"pattern": "**/*"})) == f"{plain}/a/b.txt"


def test_glob_does_not_run_repository_config(
    tmp_path: Path, toolbox: Toolbox, tools_worktree: Path
) -> None:
    pwned = tmp_path / f"pwned-{uuid.uuid4().hex}"
    with (tools_worktree / ".git" / "config").open("a") as config:
        config.write(f"[core]\n\tfsmonitor = touch {pwned}\n")
    (tools_worktree / ".git" / "commondir").write_text(str(tmp_path / "elsewhere"))
    ok(toolbox.call("Glob", {"pattern": "**/*.py"}))
    ok(toolbox.call("Grep", {"pattern": "hello"}))
    assert not pwned.exists()


# -- Grep ------------------------------------------------------------------------------------


def test_grep_lists_matching_files(toolbox: Toolbox, tools_worktree: Path) -> None:
    result = ok(toolbox.call("Grep", {"pattern": "hello"})).splitlines()
    assert result[0] == "Found 3 files"
    assert sorted(result[1:]) == sorted(
        [
            f"{tools_worktree}/src/app.py",
            f"{tools_worktree}/README.md",
            f"{tools_worktree}/notes.txt",
        ]
    )  # not debug.log or build/ (ignored), not .git
    insensitive = ok(toolbox.call("Grep", {"pattern": "hello", "-i": True, "glob": "*.py"}))
    assert insensitive.splitlines()[1:] == sorted(
        [f"{tools_worktree}/src/app.py", f"{tools_worktree}/src/util.py"],
        key=lambda p: -os.stat(p).st_mtime,
    )
    typed = ok(toolbox.call("Grep", {"pattern": "hello", "type": "md"}))
    assert typed == f"Found 1 file\n{tools_worktree}/README.md"
    assert ok(toolbox.call("Grep", {"pattern": "no such text"})) == "No files found"


def test_grep_content_mode_with_context(toolbox: Toolbox, tools_worktree: Path) -> None:
    result = ok(
        toolbox.call("Grep", {"pattern": "print", "output_mode": "content", "-B": 1, "path": "src"})
    )
    assert result == (
        f"{tools_worktree}/src/app.py-1-def main():\n"
        f"{tools_worktree}/src/app.py:2:    print('hello')"
    )
    plain = ok(
        toolbox.call(
            "Grep",
            {"pattern": "return", "output_mode": "content", "-n": False, "path": "src/util.py"},
        )
    )
    assert plain == f"{tools_worktree}/src/util.py:    return 'HELLO'"


def test_grep_count_and_head_limit(toolbox: Toolbox, tools_worktree: Path) -> None:
    (tools_worktree / "many.txt").write_text("match\n" * 50)
    count = ok(toolbox.call("Grep", {"pattern": "match", "output_mode": "count"}))
    assert count.splitlines()[0] == f"{tools_worktree}/many.txt:50"
    limited = ok(
        toolbox.call("Grep", {"pattern": "match", "output_mode": "content", "head_limit": 3})
    )
    assert len(limited.splitlines()) == 3


def test_grep_multiline(toolbox: Toolbox, tools_worktree: Path) -> None:
    result = ok(
        toolbox.call(
            "Grep",
            {"pattern": r"main\(\):\n\s+print", "multiline": True, "output_mode": "content"},
        )
    )
    assert result.splitlines() == [
        f"{tools_worktree}/src/app.py:1:def main():",
        f"{tools_worktree}/src/app.py:2:    print('hello')",
    ]


def test_grep_skips_binary_files(toolbox: Toolbox, tools_worktree: Path) -> None:
    (tools_worktree / "blob.bin").write_bytes(b"\0\0hello\0")
    assert "blob.bin" not in ok(toolbox.call("Grep", {"pattern": "hello"}))


def test_grep_errors(toolbox: Toolbox) -> None:
    assert "invalid regular expression" in err(toolbox.call("Grep", {"pattern": "(unclosed"}))
    assert "unknown file type" in err(toolbox.call("Grep", {"pattern": "x", "type": "cobol"}))
    assert "does not exist" in err(toolbox.call("Grep", {"pattern": "x", "path": "nowhere"}))


def test_catastrophic_regex_times_out_without_freezing(tools_worktree: Path) -> None:
    (tools_worktree / "evil.txt").write_text("a" * 40 + "!\n")
    toolbox = Toolbox(tools_worktree, BwrapSandbox(tools_worktree), grep_timeout=1)
    result = toolbox.call("Grep", {"pattern": "^(a+)+$", "path": "evil.txt"})
    assert "timed out" in err(result)


def test_grep_output_is_capped(toolbox: Toolbox, tools_worktree: Path) -> None:
    (tools_worktree / "wide.txt").write_text(("needle " + "x" * 190 + "\n") * 1000)
    content = ok(toolbox.call("Grep", {"pattern": "needle", "output_mode": "content"}))
    assert len(content) < 31_000
    assert "characters omitted" in content


# -- TodoWrite -------------------------------------------------------------------------------


def test_todo_write_keeps_and_returns_the_list(toolbox: Toolbox) -> None:
    todos = [
        {"content": "Reproduce the bug", "status": "completed", "activeForm": "Reproducing"},
        {"content": "Fix it", "status": "in_progress", "activeForm": "Fixing it"},
        {"content": "Run the tests", "status": "pending"},
    ]
    result = ok(toolbox.call("TodoWrite", {"todos": todos}))
    assert result == (
        "Todo list updated (3 items):\n"
        "[x] Reproduce the bug\n"
        "[>] Fix it (in progress)\n"
        "[ ] Run the tests"
    )
    assert toolbox.todos == todos
    assert ok(toolbox.call("TodoWrite", {"todos": []})) == "Todo list cleared."
    assert toolbox.todos == []


def test_grep_never_imports_code_from_the_worktree(tmp_path: Path, tools_worktree: Path) -> None:
    marker = tmp_path / f"imported-{uuid.uuid4().hex}"
    payload = f"open({str(marker)!r}, 'w').close()\n"
    for module in ("json.py", "re.py", "agents.py", "encodings.py"):
        (tools_worktree / module).write_text(payload)
    (tools_worktree / "agents").mkdir()
    (tools_worktree / "agents" / "__init__.py").write_text(payload)
    (tools_worktree / "agents" / "search.py").write_text(payload)
    toolbox = Toolbox(tools_worktree, BwrapSandbox(tools_worktree))
    assert "src/app.py" in ok(toolbox.call("Grep", {"pattern": "hello"}))
    assert not marker.exists()


def test_cap_text_keeps_head_and_tail() -> None:
    text = "".join(f"{i:05d}\n" for i in range(20_000))
    capped = cap_text(text, 1000)
    assert capped.startswith("00000\n00001\n")
    assert capped.endswith("19998\n19999\n")
    assert f"[{len(text) - 1000} characters omitted]" in capped
    assert cap_text("short", 1000) == "short"


def test_stream_cap_is_bounded_and_counts_characters() -> None:
    stream = StreamCap(max_chars=100)
    for _ in range(10_000):
        stream.feed("é€😀x".encode())  # 1-, 2-, 3- and 4-byte characters
    text, truncated = stream.render()
    assert truncated
    assert len(text) < 200
    assert "\ufffd" not in text  # no character cut in half at either edge
    kept = len(text) - len(text.split("\n… [")[0]) - len(text.split("] …\n")[-1])
    omitted = int(text.split("[")[1].split(" ")[0])
    assert omitted + len(text) - kept == 40_000
