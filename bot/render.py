"""What Rolecall posts, as pure functions of a job's state.

Kept apart from the worker so every message can be read and tested on its own. The
hidden `<!-- rolecall:… -->` markers let a restarted worker find what it already
posted instead of posting it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from agents.executor import RunResult

PHASES: tuple[tuple[str, str], ...] = (
    ("acknowledge", "Acknowledged"),
    ("authorize", "Checked the requester's permission"),
    ("prepare", "Checked out the repository"),
    ("brief", "Read the issue and the repository's instructions"),
    ("execute", "Ran the agent"),
    ("deliver", "Pushed a branch and opened a draft pull request"),
)
PHASE_NAMES = tuple(name for name, _ in PHASES)


def job_marker(job_id: int) -> str:
    return f"<!-- rolecall:job={job_id} -->"


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
        return f"{self.turns} turns · {tokens:,} tokens · {cost}"


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


def tracking_comment(state: Tracking) -> str:
    if state.outcome is None:
        heading = "👀 **Rolecall is working on this.**"
    elif state.outcome == "succeeded":
        heading = f"✅ **Rolecall opened a draft pull request: {state.pr_url}**"
    elif state.outcome == "no_changes":
        heading = "ℹ️ **Rolecall finished without changing any files, so there is no pull request.**"
    elif state.outcome == "cancelled":
        heading = "⏹️ **Rolecall stopped: the job was cancelled.**"
    else:
        label = dict(PHASES).get(state.phase, state.phase)
        heading = f"❌ **Rolecall stopped in the `{state.phase}` phase** ({label.lower()})."
    lines = [heading, "", f"Role `{state.role}` · model `{state.model}`", ""]
    current = PHASE_NAMES.index(state.phase) if state.phase in PHASE_NAMES else 0
    for index, (_name, label) in enumerate(PHASES):
        if state.outcome == "succeeded" or index < current:
            mark = "[x]"
        elif index == current and state.outcome is None:
            mark = "[ ] ⏳"
        elif index == current:
            mark = "[ ] ✗" if state.outcome == "failed" else "[ ]"
        else:
            mark = "[ ]"
        lines.append(f"- {mark} {label}")
    if state.detail:
        lines += ["", _quote(state.detail)]
    lines += [f"- {note}" for note in state.notes]
    if state.spend is not None:
        lines += ["", f"<sub>{state.spend.line()}</sub>"]
    lines += ["", job_marker(state.job_id)]
    return "\n".join(lines)


@dataclass(frozen=True)
class CommandRun:
    command: str
    exit_code: int | None  # None when it timed out
    timed_out: bool = False


def pull_request_body(
    *,
    issue_number: int,
    summary: str,
    commands: Sequence[CommandRun],
    role: str,
    model: str,
    spend: Spend,
    diff_stat: str,
    job_id: int,
) -> str:
    lines = [f"Fixes #{issue_number}", "", "## What changed", "", summary.strip() or "(no summary)"]
    lines += ["", "## How it was verified", ""]
    if commands:
        lines += ["| command | exit |", "| --- | --- |"]
        for run in commands[-20:]:
            exit_text = "timed out" if run.timed_out else str(run.exit_code)
            lines.append(f"| `{_table_cell(run.command)}` | {exit_text} |")
        if len(commands) > 20:
            lines.append(f"\n({len(commands) - 20} earlier commands not shown)")
    else:
        lines.append("The agent ran no commands, so nothing was verified by running code.")
    if diff_stat.strip():
        lines += ["", "<details><summary>Files changed</summary>", "", "```", diff_stat.strip()]
        lines += ["```", "</details>"]
    lines += ["", "## Run", "", f"Role `{role}` · model `{model}` · {spend.line()}"]
    lines += ["", "This pull request is a draft: review it before marking it ready.", ""]
    lines.append(job_marker(job_id))
    return "\n".join(lines)


def pull_request_title(issue_title: str) -> str:
    return issue_title.strip()[:200] or "Rolecall change"


def permission_refusal(login: str, command: str) -> str:
    return (
        f"@{login} thanks for asking. `{command}` can only be started by people with write, "
        "maintain or admin access to this repository, so Rolecall is not starting any work. "
        "A maintainer can run the command instead."
    )


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def _table_cell(text: str) -> str:
    flat = " ".join(text.split())
    flat = flat if len(flat) <= 120 else flat[:117] + "…"
    return flat.replace("|", "\\|").replace("`", "'")
