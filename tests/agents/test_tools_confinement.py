"""The file tools run on the host, so every path the model names must stay in the worktree.

Each case puts something worth stealing (or worth protecting) just outside the worktree
and asserts both the refusal the model sees and that nothing outside was read or changed.
"""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from agents.sandbox.bubblewrap import BWRAP_MISSING, BwrapSandbox
from agents.tools.fs_guard import PathRefused, Worktree
from agents.tools.toolbox import Toolbox
from tests.helpers import swap_atomically

pytestmark = pytest.mark.bwrap

SECRET = "OUTSIDE-SECRET-CONTENT"


@pytest.fixture(autouse=True)
def tools_bwrap_installed() -> None:
    if shutil.which("bwrap") is None:
        pytest.fail(f"{BWRAP_MISSING} (tool tests need it and are never skipped)")


@pytest.fixture
def tools_layout(tmp_path: Path) -> tuple[Path, Path]:
    """`<tmp>/work` (the worktree) and `<tmp>/outside` holding `secret.txt`."""
    worktree = tmp_path / "work"
    (worktree / "src").mkdir(parents=True)
    (worktree / "src" / "ok.txt").write_text("inside\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    twin = tmp_path / "work-evil"  # shares the worktree's name as a prefix
    twin.mkdir()
    (twin / "secret.txt").write_text(SECRET + "\n")
    (worktree / "file_link").symlink_to(outside / "secret.txt")
    (worktree / "dir_link").symlink_to(outside)
    (worktree / "relative_link").symlink_to("../outside/secret.txt")
    (worktree / "dangling").symlink_to(outside / "does-not-exist-yet.txt")
    (worktree / "src" / "inner_link").symlink_to("../../outside")
    return worktree, outside


@pytest.fixture
def tools_box(tools_layout: tuple[Path, Path]) -> Toolbox:
    worktree, _ = tools_layout
    return Toolbox(worktree, BwrapSandbox(worktree))


ESCAPES = [
    "../outside/secret.txt",
    "src/../../outside/secret.txt",
    "{tmp}/outside/secret.txt",
    "{tmp}/work-evil/secret.txt",
    "{tmp}/work/../outside/secret.txt",
    "/proc/self/environ",
    "/etc/passwd",
    "file_link",
    "relative_link",
    "dir_link/secret.txt",
    "src/inner_link/secret.txt",
    "{tmp}/work/dir_link/secret.txt",
]


def _expand(path: str, worktree: Path) -> str:
    return path.format(tmp=worktree.parent)


@pytest.mark.parametrize("path", ESCAPES)
def test_read_refuses_paths_leading_out(
    tools_box: Toolbox, tools_layout: tuple[Path, Path], path: str
) -> None:
    worktree, _ = tools_layout
    result = tools_box.call("Read", {"file_path": _expand(path, worktree)})
    assert result.is_error
    assert SECRET not in result.content
    assert "outside the worktree" in result.content or "symbolic link" in result.content


@pytest.mark.parametrize(
    "path", [*ESCAPES, "dangling", "dir_link/new.txt", "src/inner_link/new.txt"]
)
def test_write_and_edit_refuse_paths_leading_out(
    tools_box: Toolbox, tools_layout: tuple[Path, Path], path: str
) -> None:
    worktree, outside = tools_layout
    before = sorted(p.name for p in outside.iterdir())
    target = _expand(path, worktree)

    wrote = tools_box.call("Write", {"file_path": target, "content": "pwned"})
    edited = tools_box.call(
        "Edit", {"file_path": target, "old_string": SECRET, "new_string": "pwned"}
    )

    assert wrote.is_error and edited.is_error
    assert (outside / "secret.txt").read_text() == SECRET + "\n"
    assert (worktree.parent / "work-evil" / "secret.txt").read_text() == SECRET + "\n"
    assert sorted(p.name for p in outside.iterdir()) == before


def test_paths_inside_still_work(tools_box: Toolbox, tools_layout: tuple[Path, Path]) -> None:
    worktree, _ = tools_layout
    for path in ("src/ok.txt", "./src/ok.txt", "src/../src/ok.txt", f"{worktree}/src/ok.txt",
                 f"{worktree}//src///ok.txt"):  # fmt: skip
        assert tools_box.call("Read", {"file_path": path}).content == "     1\tinside"


def test_search_tools_do_not_follow_links_out(
    tools_box: Toolbox, tools_layout: tuple[Path, Path]
) -> None:
    worktree, _ = tools_layout
    for mode in ("files_with_matches", "content", "count"):
        result = tools_box.call("Grep", {"pattern": SECRET, "output_mode": mode})
        assert SECRET not in result.content
        assert "secret.txt" not in result.content
    assert tools_box.call("Grep", {"pattern": SECRET, "path": "dir_link"}).is_error
    assert tools_box.call("Grep", {"pattern": SECRET, "path": "file_link"}).is_error
    assert tools_box.call("Grep", {"pattern": ".", "path": "../outside"}).is_error
    globbed = tools_box.call("Glob", {"pattern": "**/*"})
    assert "secret.txt" not in globbed.content
    assert tools_box.call("Glob", {"pattern": "*", "path": "dir_link"}).is_error
    assert tools_box.call(
        "Glob", {"pattern": "*", "path": str(worktree.parent / "outside")}
    ).is_error


def test_intermediate_directory_swapped_for_a_symlink_is_refused(
    tools_box: Toolbox, tools_layout: tuple[Path, Path]
) -> None:
    # The directory was fine when the model looked; now it points out.
    worktree, outside = tools_layout
    assert not tools_box.call("Read", {"file_path": "src/ok.txt"}).is_error
    shutil.rmtree(worktree / "src")
    (worktree / "src").symlink_to(outside)
    (outside / "ok.txt").write_text(SECRET)

    read = tools_box.call("Read", {"file_path": "src/ok.txt"})
    assert read.is_error and SECRET not in read.content
    assert "symbolic link" in read.content
    assert tools_box.call("Write", {"file_path": "src/ok.txt", "content": "x"}).is_error
    assert (outside / "ok.txt").read_text() == SECRET


def test_no_window_between_check_and_use(tools_layout: tuple[Path, Path]) -> None:
    """A thread keeps atomically swapping `d` between a real directory and a symlink
    pointing out while the tools read and write `d/f`; not once may they touch the
    outside file."""
    worktree, outside = tools_layout
    (outside / "f").write_text(SECRET)
    real = worktree / "d"
    real.mkdir()
    (real / "f").write_text("inside")
    link = worktree / "d-link"
    link.symlink_to(outside)
    toolbox = Toolbox(worktree, BwrapSandbox(worktree))
    stop = threading.Event()
    swaps = 0

    def swapper() -> None:
        nonlocal swaps
        while not stop.is_set():
            swap_atomically(real, link)
            swaps += 1

    thread = threading.Thread(target=swapper)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # interleave the two threads as finely as Python allows
    thread.start()
    outcomes: set[str] = set()
    try:
        for _ in range(2000):
            read = toolbox.call("Read", {"file_path": "d/f"})
            assert SECRET not in read.content
            outcomes.add("error" if read.is_error else "read")
            toolbox.call("Write", {"file_path": "d/f", "content": "inside"})
            toolbox.call("Edit", {"file_path": "d/f", "old_string": SECRET, "new_string": "x"})
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert swaps > 0
    assert (outside / "f").read_text() == SECRET
    assert sorted(p.name for p in outside.iterdir()) == ["f", "secret.txt"]
    assert outcomes == {"read", "error"}  # the race really hit both states


def test_worktree_guard_rejects_what_it_should(tmp_path: Path) -> None:
    root = tmp_path / "work"
    root.mkdir()
    guard = Worktree(root)
    cases: dict[str, Callable[[], object]] = {
        "empty": lambda: guard.relative(""),
        "nul": lambda: guard.relative("a\0b"),
        "parent": lambda: guard.relative(".."),
        "twin": lambda: guard.relative(f"{tmp_path}/work-evil/x"),
        "root": lambda: guard.relative("/"),
    }
    for name, attempt in cases.items():
        with pytest.raises(PathRefused):
            attempt()
        assert name
    assert guard.relative(str(root)) == ""
    assert guard.relative("a/./b/../c") == "a/c"
