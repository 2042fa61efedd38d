"""Which of a role's tools a run offers, and why each of the others is not offered.

A role file asks for tools; a run can only offer those Rolecall implements and this run
may have. Both `rolecall roles show`/`check` and the run itself (`agents.run`) ask this
module, so a role is shown exactly the tools it gets, and every tool it asked for and
does not get is a warning with the reason (in the CLI and in the job's transcript).

`Changes` is deliberately not implemented. Its meaning here would be "the diff of the
worktree against the commit the job started from": a role with Bash sees exactly that
with `git diff` inside the sandbox, a read-only role changes nothing (so it would always
be empty), and a reviewer's brief already carries the pull request's diff. Doing it on
the host would mean reading the whole agent-written worktree and writing a tree into the
job's host-only git directory on every call, new host-side work driven by the agent for
no ability it lacks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from agents.tools.names import CHANGES, NETWORK_TOOLS, RUNTIME_TOOLS, WEB_FETCH

CHANGES_REASON = (
    "Rolecall has no Changes tool: a role with Bash sees its changes with `git diff`, and "
    "a pull request's diff is in the brief of the jobs that need it"
)


@dataclass(frozen=True)
class ToolOffer:
    """The tools offered (sorted, as the model sees them) and those dropped, with why."""

    tools: tuple[str, ...]
    dropped: tuple[tuple[str, str], ...] = ()

    def warnings(self) -> list[str]:
        """One line per dropped tool: `WebFetch is unavailable: <why>`."""
        return [f"{tool} is unavailable: {why}" for tool, why in self.dropped]


def offer_tools(requested: Iterable[str], *, no_network: str | None) -> ToolOffer:
    """The tools a run offers of those a role `requested`.

    `no_network` is None when the run has the egress proxy, else why it has not
    (`agents.sandbox.allowlist.network_refusal`), which is why WebFetch is dropped.
    """
    offered: list[str] = []
    dropped: list[tuple[str, str]] = []
    for tool in sorted(set(requested)):
        if tool in RUNTIME_TOOLS or (tool in NETWORK_TOOLS and no_network is None):
            offered.append(tool)
        elif tool == WEB_FETCH:
            dropped.append((tool, no_network or "this run has no network"))
        elif tool == CHANGES:
            dropped.append((tool, CHANGES_REASON))
        else:
            dropped.append((tool, "Rolecall has no tool of that name"))
    return ToolOffer(tuple(offered), tuple(dropped))


def note_in_transcript(
    transcript: Path, redact: Callable[[str], str], offer: ToolOffer, role_warnings: Iterable[str]
) -> None:
    """Append a `tools` line to the job's transcript when any asked-for tool is dropped.

    `role_warnings` are the role file's own (tools it named that Rolecall does not know,
    among others). The line is JSON like the executor's, redacted the same way.
    """
    warnings = [*offer.warnings(), *role_warnings]
    if not warnings:
        return
    record = {"event": "tools", "ts": time.time(), "offered": list(offer.tools)}
    record["warnings"] = warnings
    transcript.parent.mkdir(parents=True, exist_ok=True)
    with transcript.open("a", encoding="utf-8") as out:
        out.write(redact(json.dumps(record, ensure_ascii=False)) + "\n")
