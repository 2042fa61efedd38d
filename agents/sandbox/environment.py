"""The environment of a sandboxed command: a fixed base, and extras that hold no secret.

The command's environment is cleared first (bubblewrap's `--clearenv`), so it sees only
what is set here: PATH, HOME=/tmp, LANG, TERM and the caller's extras, which are refused
when they look like credentials (invariant 1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from agents.sandbox.interface import SandboxError

SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_ENV: Mapping[str, str] = {
    "PATH": SAFE_PATH,
    "HOME": "/tmp",  # noqa: S108 - the sandbox's private tmpfs
    "LANG": "C.UTF-8",
    "TERM": "dumb",
    # No bytecode caches: they litter the diff, and a same-size edit within the same
    # second would leave a stale .pyc that makes the fixed code still run the old one.
    "PYTHONDONTWRITEBYTECODE": "1",
}
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE)
_SECRET_VALUE = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{16,}|github_pat_|sk-ant-|-----BEGIN [A-Z ]*PRIVATE KEY"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def sandbox_environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    """The complete environment of a sandboxed command: BASE_ENV plus `extra`.

    Refuses extras whose name or value looks like a credential: nothing secret may
    reach the agent (invariant 1), and a caller passing one is a bug worth stopping.
    """
    env = dict(BASE_ENV)
    for name, value in (extra or {}).items():
        if not _ENV_NAME.fullmatch(name):
            raise SandboxError(f"invalid environment variable name for the sandbox: {name!r}")
        if _SECRET_NAME.search(name) or _SECRET_VALUE.search(value):
            raise SandboxError(
                f"refusing to pass {name} into the sandbox: it looks like a credential"
            )
        env[name] = value
    return env
