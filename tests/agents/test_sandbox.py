"""What the bubblewrap sandbox refuses, observed from inside it and from the host.

Real bubblewrap, never skipped: without `bwrap` these tests fail and say how to install
it. Resource tests are bounded on their own (a fork loop that stops at 1000 children, a
memory hog that stops at 2 GiB) so they stay safe even if a limit did not hold.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agents import workspace
from agents.sandbox.bubblewrap import (
    BWRAP_MISSING,
    BwrapSandbox,
    SandboxError,
    UnsandboxedRunner,
    make_sandbox,
)
from agents.sandbox.interface import CommandResult
from agents.sandbox.limits import ResourceLimits, process_limit_mechanism
from tests.helpers import host_git, host_processes_with

pytestmark = pytest.mark.bwrap

FAKE_GITHUB_TOKEN = "ghs_" + "A1b2C3d4E5f6G7h8I9j0" * 2
FAKE_ANTHROPIC_KEY = "sk-ant-api03-" + "x" * 40
GIT_IDENTITY = "-c user.name=Agent -c user.email=agent@example.invalid"


@pytest.fixture(autouse=True)
def sandbox_bwrap_installed() -> None:
    if shutil.which("bwrap") is None:
        pytest.fail(f"{BWRAP_MISSING} (sandbox tests need it and are never skipped)")


@pytest.fixture
def sandbox_worktree(tmp_path: Path) -> Path:
    worktree = tmp_path / "work"
    worktree.mkdir()
    host_git(worktree, "init", "-q", "-b", "main")
    (worktree / "README.md").write_text("hello\n")
    host_git(worktree, "add", "README.md")
    host_git(worktree, "commit", "-q", "-m", "initial")
    return worktree


@pytest.fixture
def sandbox(sandbox_worktree: Path) -> BwrapSandbox:
    return BwrapSandbox(sandbox_worktree)


def _run(
    sandbox: BwrapSandbox | UnsandboxedRunner, command: str, timeout: float = 30
) -> CommandResult:
    return sandbox.run(command, timeout=timeout)


def _wait_for(predicate: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def _marker() -> str:
    """A unique number usable as `sleep` argument and findable in /proc/*/cmdline."""
    return f"1000.{uuid.uuid4().int % 10**9:09d}"


# -- environment -----------------------------------------------------------------------


def test_no_host_variable_reaches_the_sandbox(
    sandbox_worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_GITHUB_TOKEN)
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_ANTHROPIC_KEY)
    monkeypatch.setenv("ROLECALL_HOST_ONLY", "host-only-value")
    sandbox = BwrapSandbox(sandbox_worktree, env={"GIT_AUTHOR_NAME": "Rolecall Agent"})

    result = _run(
        sandbox,
        "env; echo ---; tr '\\0' '\\n' < /proc/self/environ; echo ---;"
        " tr '\\0' '\\n' < /proc/1/environ; echo ---;"
        " for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done",
    )

    assert result.exit_code == 0, result.output
    for secret in ("ghs_", "sk-ant-", "GITHUB_TOKEN", "ANTHROPIC_API_KEY", "host-only-value"):
        assert secret not in result.output
    # The mechanism works: the caller's non-secret extra and the fixed base are there.
    assert "GIT_AUTHOR_NAME=Rolecall Agent" in result.output
    assert "HOME=/tmp" in result.output
    assert "LANG=C.UTF-8" in result.output


@pytest.mark.parametrize(
    "extra",
    [
        {"GITHUB_TOKEN": "anything"},
        {"MY_API_KEY": "anything"},
        {"HARMLESS_NAME": FAKE_GITHUB_TOKEN},
        {"HARMLESS_NAME": FAKE_ANTHROPIC_KEY},
        {"BAD NAME": "x"},
    ],
)
def test_credential_shaped_extras_are_refused(
    sandbox_worktree: Path, extra: dict[str, str]
) -> None:
    with pytest.raises(SandboxError):
        BwrapSandbox(sandbox_worktree, env=extra)


def test_host_processes_are_not_visible(sandbox: BwrapSandbox) -> None:
    ours = Path("/proc/self/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    result = _run(
        sandbox, "cat /proc/[0-9]*/cmdline | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'"
    )
    assert ours not in result.output
    assert int(result.output.split()[-1]) < 10


def test_capabilities_are_dropped_and_no_new_privs(sandbox: BwrapSandbox) -> None:
    result = _run(sandbox, "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status")
    assert "CapEff:\t0000000000000000" in result.output
    assert "CapBnd:\t0000000000000000" in result.output
    assert "NoNewPrivs:\t1" in result.output


# -- filesystem --------------------------------------------------------------------------


def test_commands_run_with_bash_in_the_worktree(
    sandbox: BwrapSandbox, sandbox_worktree: Path
) -> None:
    result = _run(sandbox, "pwd; [[ -n $BASH_VERSION ]] && echo bash; echo err >&2; exit 3")
    assert result.exit_code == 3
    assert result.output.splitlines()[:2] == [str(sandbox_worktree), "bash"]
    assert "err" in result.output  # stderr is merged


def test_worktree_is_writable_and_seen_by_the_host(
    sandbox: BwrapSandbox, sandbox_worktree: Path
) -> None:
    result = _run(sandbox, "mkdir -p src && echo 'print(1)' > src/main.py && cat README.md")
    assert result.exit_code == 0, result.output
    assert (sandbox_worktree / "src" / "main.py").read_text() == "print(1)\n"


def test_files_outside_the_worktree_are_invisible(tmp_path: Path, sandbox: BwrapSandbox) -> None:
    sibling = tmp_path / "sibling"
    sibling.mkdir()
    (sibling / "secret.txt").write_text("sibling-secret")
    evil_twin = tmp_path / "work-evil"  # shares the worktree's name as a prefix
    evil_twin.mkdir()
    (evil_twin / "secret.txt").write_text("twin-secret")

    result = _run(
        sandbox,
        f"cat {sibling}/secret.txt; cat {evil_twin}/secret.txt; ls {tmp_path};"
        " ls /root /home /work /var /opt /srv /mnt /run; cat /etc/shadow",
    )

    assert "sibling-secret" not in result.output
    assert "twin-secret" not in result.output
    for gone in ("/root", "/home", "/work", "/var", "/opt", "/run"):
        assert f"cannot access '{gone}'" in result.output
    listing = _run(sandbox, f"ls -A {tmp_path}").output.split()
    assert listing == ["work"]


def test_system_is_read_only_and_tmp_is_private(sandbox: BwrapSandbox) -> None:
    name = f"rolecall-private-{uuid.uuid4().hex}"
    for target in ("/usr/evil", "/etc/evil", "/evil", "/bin/evil", "/lib/evil"):
        result = _run(sandbox, f"touch {target}")
        assert result.exit_code != 0, target
        assert "Read-only file system" in result.output or "No such file" in result.output
    assert _run(sandbox, f"echo x > /tmp/{name} && cat /tmp/{name}").output == "x\n"
    assert not (Path("/tmp") / name).exists()
    # Each command gets a fresh /tmp.
    assert _run(sandbox, f"cat /tmp/{name}").exit_code != 0


# -- git ---------------------------------------------------------------------------------


def test_agent_can_commit(sandbox: BwrapSandbox, sandbox_worktree: Path) -> None:
    result = _run(
        sandbox,
        "echo change >> README.md && git add README.md"
        f" && git {GIT_IDENTITY} commit -q -m 'agent change' && git log --oneline | head -1",
    )
    assert result.exit_code == 0, result.output
    assert "agent change" in host_git(sandbox_worktree, "log", "-1", "--format=%s")


def test_a_jobs_checkout_works_inside_with_the_mirror_bound_read_only(tmp_path: Path) -> None:
    """The agent's `.git` is its own (the host never reads it back); its objects come from
    the job's mirror, bound read-only where the agent's alternates file says."""
    seed = tmp_path / "seed"
    seed.mkdir()
    host_git(seed, "init", "-q", "-b", "main")
    (seed / "file.txt").write_text("from the mirror\n")
    host_git(seed, "add", "file.txt")
    host_git(seed, "commit", "-q", "-m", "seed")
    mirror = tmp_path / "mirror.git"
    host_git(tmp_path, "clone", "-q", "--bare", str(seed), str(mirror))
    sha = host_git(mirror, "rev-parse", "main").strip()
    worktree = tmp_path / "job"
    workspace.create_worktree(mirror, worktree, sha, "rolecall/issue-1-x")

    with_mirror = BwrapSandbox(worktree, mirror=mirror)
    status = _run(with_mirror, "git status --porcelain && git log --format=%s")
    assert status.exit_code == 0 and status.output.strip() == "seed", status.output
    assert _run(with_mirror, f"touch {workspace.SANDBOX_MIRROR}/objects/evil").exit_code != 0
    commit = _run(
        with_mirror,
        f"echo more >> file.txt && git {GIT_IDENTITY} commit -qam more"
        " && git log --format=%s | head -1",
    )
    assert commit.output.strip() == "more", commit.output
    # Its hooks and config are the agent's to write: nothing on the host ever runs them.
    hooks = _run(
        with_mirror, "mkdir -p .git/hooks && echo x > .git/hooks/pre-commit && git config core.x y"
    )
    assert hooks.exit_code == 0, hooks.output
    # The mirror's own host path is not in the sandbox: only its read-only binding is.
    assert _run(with_mirror, f"ls {mirror}").exit_code != 0

    # Without the binding the objects are out of reach: the binding is what makes git work.
    assert _run(BwrapSandbox(worktree), "git log --format=%s").exit_code != 0


# -- network -----------------------------------------------------------------------------


@pytest.fixture
def sandbox_tcp_listener() -> Iterator[int]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


CONNECT_TCP = (
    'python3 -c \'import socket,sys; s=socket.create_connection(("127.0.0.1", {port}), 3);'
    ' print("connected")\''
)


def test_host_tcp_services_are_unreachable(
    sandbox: BwrapSandbox, sandbox_tcp_listener: int
) -> None:
    port = sandbox_tcp_listener
    curl = _run(sandbox, f"curl -sS -m 3 http://127.0.0.1:{port}/")
    assert curl.exit_code != 0
    python = _run(sandbox, CONNECT_TCP.format(port=port))
    assert "connected" not in python.output
    assert "Connection refused" in python.output
    interfaces = _run(sandbox, "cat /proc/net/dev").output
    assert "lo:" in interfaces
    assert all(line.split(":")[0].strip() == "lo" for line in interfaces.splitlines()[2:])


def test_network_true_shares_the_host_network(
    sandbox_worktree: Path, sandbox_tcp_listener: int
) -> None:
    # The control for the test above: the same probe succeeds when the network is shared.
    sandbox = BwrapSandbox(sandbox_worktree, network=True)
    assert "connected" in _run(sandbox, CONNECT_TCP.format(port=sandbox_tcp_listener)).output


def test_host_unix_sockets_are_unreachable(tmp_path: Path, sandbox_worktree: Path) -> None:
    path_socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path_socket.bind(str(tmp_path / "host.sock"))
    path_socket.listen(4)
    abstract_name = f"rolecall-test-{uuid.uuid4().hex}"
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind("\0" + abstract_name)
    abstract.listen(4)
    probe = (
        "python3 -c 'import socket,sys\n"
        "for addr in sys.argv[1:]:\n"
        "    s = socket.socket(socket.AF_UNIX)\n"
        "    try:\n"
        '        s.connect(addr.replace("@", "\\0", 1)); print("connected", addr)\n'
        '    except OSError as e: print("refused", addr, e)\n'
        f"' {tmp_path}/host.sock @{abstract_name}"
    )
    try:
        confined = _run(BwrapSandbox(sandbox_worktree), probe)
        assert "connected" not in confined.output
        assert [line.split()[0] for line in confined.output.splitlines()] == ["refused"] * 2
        shared = _run(BwrapSandbox(sandbox_worktree, network=True), probe)
        assert f"connected @{abstract_name}" in shared.output  # control: the probe works
    finally:
        path_socket.close()
        abstract.close()


# -- killing -----------------------------------------------------------------------------


def test_timeout_kills_the_whole_tree(sandbox: BwrapSandbox) -> None:
    marker = _marker()
    result = _run(
        sandbox,
        f"sleep {marker} & setsid sleep {marker} & nohup sleep {marker} >/dev/null 2>&1 &"
        f" (trap '' TERM HUP; sleep {marker}) & sleep {marker}; wait",
        timeout=1,
    )
    assert result.timed_out
    assert result.exit_code == 137
    assert host_processes_with(marker) == []


def test_background_processes_end_with_the_command(sandbox: BwrapSandbox) -> None:
    marker = _marker()
    result = _run(sandbox, f"sleep {marker} >/dev/null 2>&1 & disown; echo started", timeout=30)
    assert result.output == "started\n"
    assert not result.timed_out
    assert host_processes_with(marker) == []


def test_kill_all_from_another_thread_stops_the_command(sandbox: BwrapSandbox) -> None:
    marker = _marker()
    results: list[CommandResult] = []
    worker = threading.Thread(
        target=lambda: results.append(_run(sandbox, f"sleep {marker} & sleep {marker}; wait", 120))
    )
    worker.start()
    _wait_for(lambda: len(host_processes_with(f"sleep {marker}")) >= 2)

    sandbox.kill_all()
    worker.join(timeout=30)

    assert not worker.is_alive()
    assert not results[0].timed_out
    assert results[0].exit_code == 137
    assert "cancelled" in results[0].output
    assert host_processes_with(marker) == []


# -- output ------------------------------------------------------------------------------


def test_endless_output_is_capped_and_stopped(sandbox: BwrapSandbox) -> None:
    result = _run(sandbox, "yes", timeout=60)
    assert not result.timed_out  # stopped for its output, long before the timeout
    assert result.truncated
    assert len(result.output) < 31_000
    assert "characters omitted" in result.output
    assert "the command was stopped" in result.output


def test_long_output_keeps_head_and_tail(sandbox: BwrapSandbox) -> None:
    result = _run(sandbox, "seq 1 100000; echo done", timeout=30)
    assert result.exit_code == 0
    assert result.truncated
    assert result.output.startswith("1\n2\n3\n")
    assert result.output.endswith("99999\n100000\ndone\n")
    assert "characters omitted" in result.output
    assert len(result.output) < 31_000


def test_short_output_is_untouched(sandbox: BwrapSandbox) -> None:
    result = _run(sandbox, "printf 'héllo\\nwörld\\n'")
    assert result == CommandResult(0, "héllo\nwörld\n", False, False)


# -- resources ---------------------------------------------------------------------------

SMALL = ResourceLimits(
    address_space_bytes=512 * 1024**2, memory_bytes=512 * 1024**2, max_processes=64
)


def test_memory_hog_is_stopped(sandbox_worktree: Path) -> None:
    sandbox = BwrapSandbox(sandbox_worktree, limits=SMALL)
    # Bounded at 2 GiB even if no limit held.
    hog = (
        "python3 -c 'chunks = []\n"
        "for _ in range(40): chunks.append(bytearray(50 * 1024 * 1024))\n"
        'print("allocated", len(chunks))\''
    )
    result = _run(sandbox, hog)
    assert result.exit_code != 0
    assert "allocated" not in result.output
    assert "MemoryError" in result.output or result.exit_code == 137


def test_fork_bomb_is_contained(sandbox_worktree: Path) -> None:
    mechanism = process_limit_mechanism(SMALL)
    assert mechanism != "none", (
        "no way to limit processes here: running as root without a writable cgroup v1 pids"
        " hierarchy (RLIMIT_NPROC does not apply to root). Run as a non-root user."
    )
    sandbox = BwrapSandbox(sandbox_worktree, limits=SMALL)
    marker = _marker()
    # Bounded at 1000 children even if no limit held.
    spawner = (
        "python3 -c 'import os\n"
        "n = 0\n"
        "for _ in range(1000):\n"
        "    try: pid = os.fork()\n"
        '    except OSError as e: print("fork failed:", e); break\n'
        f'    if pid == 0: os.execv("/usr/bin/sleep", ["sleep", "{marker}"])\n'
        "    n += 1\n"
        'print("spawned", n)\''
    )
    result = _run(sandbox, spawner)
    assert "fork failed" in result.output
    spawned = int(result.output.split("spawned")[1])
    assert spawned < SMALL.max_processes
    assert host_processes_with(marker) == []

    bomb = f"bomb_{marker.replace('.', '_')}"
    classic = _run(sandbox, f"{bomb}() {{ {bomb} | {bomb} & }}; {bomb}; sleep 30", timeout=3)
    assert classic.timed_out
    assert "Resource temporarily unavailable" in classic.output
    assert host_processes_with(bomb) == []


# -- construction ------------------------------------------------------------------------


def test_make_sandbox_refuses_none_unless_allowed(sandbox_worktree: Path) -> None:
    with pytest.raises(SandboxError, match="ROLECALL_ALLOW_UNSAFE_SANDBOX"):
        make_sandbox("none", sandbox_worktree, allow_unsafe=False)
    assert isinstance(make_sandbox("none", sandbox_worktree, allow_unsafe=True), UnsandboxedRunner)
    assert isinstance(make_sandbox("bwrap", sandbox_worktree, allow_unsafe=False), BwrapSandbox)


def test_make_sandbox_says_how_to_install_bwrap(
    tmp_path: Path, sandbox_worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(SandboxError) as raised:
        make_sandbox("bwrap", sandbox_worktree, allow_unsafe=False)
    assert str(raised.value) == "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"


def test_missing_read_only_path_is_refused(tmp_path: Path, sandbox_worktree: Path) -> None:
    with pytest.raises(SandboxError, match="does not exist"):
        BwrapSandbox(sandbox_worktree, read_only_paths=[tmp_path / "no-such-mirror"])


# -- the unsafe backend ------------------------------------------------------------------


def test_unsandboxed_runner_clears_env_and_kills_its_group(
    sandbox_worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_GITHUB_TOKEN)
    runner = UnsandboxedRunner(sandbox_worktree)
    env = _run(runner, "env; pwd")
    assert "ghs_" not in env.output
    assert "GITHUB_TOKEN" not in env.output
    assert str(sandbox_worktree) in env.output

    marker = _marker()
    timed = _run(runner, f"sleep {marker} & sleep {marker}; wait", timeout=1)
    assert timed.timed_out
    assert host_processes_with(marker) == []

    background = _run(runner, f"sleep {marker} >/dev/null 2>&1 & echo started")
    assert background.output == "started\n"
    assert host_processes_with(marker) == []


def test_a_sandbox_that_cannot_start_raises(tmp_path: Path, sandbox_worktree: Path) -> None:
    mirror = tmp_path / "mirror.git"
    mirror.mkdir()
    sandbox = BwrapSandbox(sandbox_worktree, read_only_paths=[mirror])
    mirror.rmdir()  # gone by the time the command runs: bubblewrap cannot bind it
    with pytest.raises(SandboxError, match="bubblewrap could not set up the sandbox"):
        sandbox.run("true", timeout=10)
