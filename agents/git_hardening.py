"""The settings that keep host git from running anything a repository or the host controls.

Rolecall runs git on the host in two places, and both take their hardening from here:

- `agents.workspace.git`, for every command on the mirror and a job's private git dir
  (fetch, push, commit, checkout): the full `HARDENED_CONFIG` and `HARDENED_ENV`.
- `agents.tools.search`, for the read-only `ls-files` behind Glob and Grep, which runs
  on the worktree's own `.git` (written by the agent): the common part, `BASE_CONFIG`
  and `BASE_ENV`, plus what pins that listing to the worktree.

Standard library only and nothing at import time: the Grep child process
(`python -P -m agents.tools.search`) imports this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# What every host git gets: only the repository's own config is read (the `-c` options
# below override it), and git never asks for anything.
BASE_ENV: Mapping[str, str] = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}

# Repository config that would run a program even for a read-only command.
BASE_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
)

# Config given on every workspace command line. `-c` wins over any repository config, and
# it also reaches the git subprocesses git starts itself (remote helpers) via
# GIT_CONFIG_PARAMETERS.
HARDENED_CONFIG: tuple[tuple[str, str], ...] = (
    *BASE_CONFIG,
    ("core.sshCommand", "false"),
    ("core.pager", "cat"),
    ("core.editor", "false"),
    ("core.askPass", ""),
    ("core.attributesFile", "/dev/null"),
    ("core.excludesFile", "/dev/null"),
    ("sequence.editor", "false"),
    ("credential.helper", ""),  # an empty value empties the list of helpers
    ("protocol.allow", "never"),
    ("protocol.http.allow", "always"),
    ("protocol.https.allow", "always"),
    ("filter.lfs.clean", ""),
    ("filter.lfs.smudge", ""),
    ("filter.lfs.process", ""),
    ("filter.lfs.required", "false"),
    ("submodule.recurse", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("push.recurseSubmodules", "no"),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("push.gpgSign", "false"),
    ("log.showSignature", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("http.followRedirects", "false"),
    ("color.ui", "false"),
    ("safe.bareRepository", "all"),
)

# The environment of every workspace command (on top of what it passes through).
HARDENED_ENV: Mapping[str, str] = {
    **BASE_ENV,
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_ASKPASS": "",  # set but empty: git then skips core.askPass and SSH_ASKPASS
    "SSH_ASKPASS": "",
    "GIT_LFS_SKIP_SMUDGE": "1",
    "GIT_NO_REPLACE_OBJECTS": "1",  # refs/replace/* from upstream must not rewrite what we read
    "GIT_LITERAL_PATHSPECS": "1",  # a path is a path, never `:(glob)` magic
    "GIT_PAGER": "cat",
    "GIT_EDITOR": "false",
    "GIT_SEQUENCE_EDITOR": "false",
    "LANG": "C",
}


def config_args(settings: Iterable[tuple[str, str]]) -> list[str]:
    """`-c key=value` for each setting, in order, for a git command line."""
    return [arg for key, value in settings for arg in ("-c", f"{key}={value}")]
