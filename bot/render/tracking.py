"""The tracking comment: a job's checklist of phases, its outcome and what it cost.

Kept apart from the worker so every message can be read and tested on its own. The
hidden `<!-- rolecall:… -->` markers let a restarted worker find what it already
posted instead of posting it twice.

Whatever the agent wrote arrives here already made inert (`bot.render.inert`: typed
`InertText`, so a caller that forgot is a type error); Rolecall's own lines (`Fixes #N`,
the markers, tables, headings) are added around it afterwards and are the only ones that
act on GitHub.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from agents.run import RunResult
from bot.render.inert import InertText
from bot.render.markdown import quote, table_cell

PHASES: tuple[tuple[str, str], ...] = (
    ("acknowledge", "Acknowledged"),
    ("authorize", "Checked the requester's permission"),
    ("prepare", "Checked out the repository"),
    ("brief", "Read the issue and the repository's instructions"),
    ("execute", "Ran the agent"),
    ("deliver", "Pushed a branch and opened a draft pull request"),
)
PHASE_NAMES = tuple(name for name, _ in PHASES)
# The checklist of kinds whose phases read differently from implementing an issue.
PHASES_BY_KIND: dict[str, tuple[tuple[str, str], ...]] = {
    "fix": (
        *PHASES[:3],
        ("brief", "Read the review feedback and the repository's instructions"),
        ("execute", "Ran the agent"),
        ("deliver", "Pushed commits and replied in each review thread"),
    ),
    "review": (
        *PHASES[:3],
        ("brief", "Read the pull request's diff and the repository's instructions"),
        ("execute", "Ran the reviewer"),
        ("deliver", "Posted the review"),
    ),
    # A role that changes no files, run on an issue: it answers in a comment.
    "answer": (*PHASES[:5], ("deliver", "Posted the role's answer")),
}


def phases_for(kind: str) -> tuple[tuple[str, str], ...]:
    return PHASES_BY_KIND.get(kind, PHASES)


def job_marker(job_id: int) -> str:
    return f"<!-- rolecall:job={job_id} -->"


_JOB_MARKER = re.compile(r"<!-- rolecall:job=(\d+) -->")


def marked_job(text: str) -> int | None:
    """The job id the first marker in `text` names (a PR's description), if any.

    Anyone can copy a marker: callers check the job against the ledger before trusting it.
    """
    found = _JOB_MARKER.search(text)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Spend:
    """What a run consumed, as shown to people."""

    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: Decimal | None = None

    def line(self) -> str:
        tokens = self.input_tokens + self.output_tokens
        tokens += self.cache_read_tokens + self.cache_write_tokens
        cost = f"${self.cost_usd:.4f}" if self.cost_usd is not None else "cost unknown"
        turns = f"{self.turns} turn" + ("" if self.turns == 1 else "s")
        return f"{turns} · {tokens:,} tokens · {cost}"


def live_line(
    spend: Spend, elapsed: float, step: InertText | None, retry_note: str | None = None
) -> str:
    """How a running agent is doing, in one line: spend, time, and what it does now."""
    minutes, seconds = divmod(int(elapsed), 60)
    parts = [spend.line(), f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"]
    if retry_note:
        parts.append(retry_note)
    elif step:
        parts.append(f"now: `{table_cell(step)}`")
    return "<sub>" + " · ".join(parts) + "</sub>"


def spend_of(result: RunResult) -> Spend:
    """The spend of an agent run (`agents.executor.RunResult`)."""
    usage = result.usage
    return Spend(
        turns=result.turns,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_input_tokens,
        cache_write_tokens=usage.cache_creation_input_tokens,
        cost_usd=result.cost_usd,
    )


@dataclass(frozen=True)
class Tracking:
    """The tracking comment's state: where the job is, and how it ended if it has."""

    job_id: int
    role: str
    model: str
    phase: str
    outcome: str | None = None  # "succeeded" | "failed" | "no_changes" | "cancelled"
    detail: str = ""
    pr_url: str | None = None
    spend: Spend | None = None
    notes: Sequence[str] = field(default_factory=tuple)
    kind: str = "implement"
    # What the job reports when it succeeds (a fix's summary, a link to the review).
    report: str = ""
    # While the agent runs: turns, tokens, cost, time and its current step (`live_line`).
    live: str = ""


_SUCCESS_HEADINGS = {
    "fix": "✅ **Rolecall addressed the review feedback.**",
    "review": "✅ **Rolecall reviewed this pull request.**",
    "answer": "✅ **Rolecall answered on this issue.**",
}


def tracking_comment(state: Tracking) -> str:
    phases = phases_for(state.kind)
    phase_names = tuple(name for name, _ in phases)
    if state.outcome is None:
        heading = "👀 **Rolecall is working on this.**"
    elif state.outcome == "succeeded" and state.kind in _SUCCESS_HEADINGS:
        heading = _SUCCESS_HEADINGS[state.kind]
    elif state.outcome == "succeeded":
        heading = f"✅ **Rolecall opened a draft pull request: {state.pr_url}**"
    elif state.outcome == "no_changes":
        heading = "ℹ️ **Rolecall finished without changing any files, so there is no pull request.**"
    elif state.outcome == "cancelled":
        heading = "⏹️ **Rolecall stopped: the job was cancelled.**"
    elif state.outcome == "queued":
        heading = "⏳ **Queued: Rolecall starts this when the job running on this issue ends.**"
    else:
        label = dict(phases).get(state.phase, state.phase)
        heading = f"❌ **Rolecall stopped in the `{state.phase}` phase** ({label.lower()})."
    lines = [heading, "", f"Role `{state.role}` · model `{state.model}`", ""]
    current = phase_names.index(state.phase) if state.phase in phase_names else 0
    for index, (_name, label) in enumerate(phases):
        if state.outcome == "succeeded" or index < current:
            mark = "[x]"
        elif index == current and state.outcome is None:
            mark = "[ ] ⏳"
        elif index == current:
            mark = "[ ] ✗" if state.outcome == "failed" else "[ ]"
        else:
            mark = "[ ]"
        lines.append(f"- {mark} {label}")
    if state.live and state.outcome is None:
        lines += ["", state.live]
    if state.detail:
        lines += ["", quote(state.detail)]
    if state.report and state.outcome == "succeeded":
        lines += ["", state.report.strip()]
    lines += [f"- {note}" for note in state.notes]
    if state.spend is not None:
        lines += ["", f"<sub>{state.spend.line()}</sub>"]
    lines += ["", job_marker(state.job_id)]
    return "\n".join(lines)


def permission_refusal(login: str, command: str) -> str:
    return (
        f"@{login} thanks for asking. `{command}` can only be started by people with write, "
        "maintain or admin access to this repository, so Rolecall is not starting any work. "
        "A maintainer can run the command instead."
    )
