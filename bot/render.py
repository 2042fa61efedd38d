"""What Rolecall posts, as pure functions of a job's state.

Kept apart from the worker so every message can be read and tested on its own. The
hidden `<!-- rolecall:… -->` markers let a restarted worker find what it already
posted instead of posting it twice.

Whatever the agent wrote arrives here already made inert (`bot.inert`: typed
`InertText`, so a caller that forgot is a type error); Rolecall's own lines (`Fixes #N`,
the markers, tables, headings) are added around it afterwards and are the only ones that
act on GitHub.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from agents.executor import RunResult
from bot.inert import InertText, inert_plain_text

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
    kind: str = "implement"
    # What the job reports when it succeeds (a fix's summary, a link to the review).
    report: str = ""


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
    if state.detail:
        lines += ["", _quote(state.detail)]
    if state.report and state.outcome == "succeeded":
        lines += ["", state.report.strip()]
    lines += [f"- {note}" for note in state.notes]
    if state.spend is not None:
        lines += ["", f"<sub>{state.spend.line()}</sub>"]
    lines += ["", job_marker(state.job_id)]
    return "\n".join(lines)


@dataclass(frozen=True)
class CommandRun:
    command: InertText  # the agent chose it
    exit_code: int | None  # None when it timed out
    timed_out: bool = False


def left_out_note(left_out: Sequence[str]) -> str:
    """What the agent made that Rolecall did not commit (FIFOs, devices, nested `.git`)."""
    if not left_out:
        return ""
    shown = ", ".join(f"`{_table_cell(inert_plain_text(item))}`" for item in left_out[:10])
    more = f" and {len(left_out) - 10} more" if len(left_out) > 10 else ""
    return f"> [!NOTE]\n> Not committed, because git cannot hold them as files: {shown}{more}."


def pull_request_body(
    *,
    issue_number: int,
    summary: InertText,
    commands: Sequence[CommandRun],
    role: str,
    model: str,
    spend: Spend,
    diff_stat: InertText,
    job_id: int,
    notice: str = "",
) -> str:
    """The PR description: Rolecall's `Fixes #N`, the agent's summary, what it ran.

    `notice` (Rolecall's own inert markdown, e.g. the protected paths a role was granted
    and changed) comes first, where a reviewer cannot miss it.
    """
    lines = [notice, ""] if notice else []
    lines += [
        f"Fixes #{issue_number}",
        "",
        "## What changed",
        "",
        summary.strip() or "(no summary)",
    ]
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
        fence = _fence_for(diff_stat)  # file names are the agent's: no fence of theirs ends it
        lines += ["", "<details><summary>Files changed</summary>", "", fence, diff_stat.strip()]
        lines += [fence, "</details>"]
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


def _fence_for(text: str) -> str:
    """A backtick fence longer than any run of backticks in `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _table_cell(text: str) -> str:
    flat = " ".join(text.split())
    flat = flat if len(flat) <= 120 else flat[:117] + "…"
    return flat.replace("|", "\\|").replace("`", "'")


# --- review cycles: replies in threads, the fix summary, reviews -------------------------------


def thread_marker(job_id: int, ref: str) -> str:
    """Marks a reply in a review thread, so a resumed job does not reply there twice."""
    return f"<!-- rolecall:job={job_id} thread={ref} -->"


def fork_refusal(login: str, number: int) -> str:
    return (
        f"@{login} Rolecall cannot push to pull request #{number}: its branch lives in a "
        "fork, and Rolecall pushes only to branches in this repository. Nothing was "
        "changed. The pull request's author can apply the feedback, or `/review` can still "
        "review it."
    )


def moved_note(reviewed_sha: str, head_sha: str) -> str:
    """Said in every reply when the branch moved between the review and the job."""
    return (
        f"The branch moved after this review (it reviewed {reviewed_sha[:12]}; the head was "
        f"{head_sha[:12]} when Rolecall started), so Rolecall worked on the new head."
    )


@dataclass(frozen=True)
class ThreadOutcome:
    """What Rolecall did about one review thread, for its reply and for the summary."""

    ref: str
    path: str
    line: int | None
    changed: bool | None  # None: the agent gave no outcome for this thread
    answer: InertText  # the agent's reply for the thread ("" when it gave none)
    reply_url: str = ""
    resolved: bool = False
    # Whether the pushed commit changed the thread's lines (bot.touched_lines); None when
    # nothing was compared. The agent saying "changed" is not enough to resolve a thread.
    touched: bool | None = None


def thread_reply(
    outcome: ThreadOutcome, *, job_id: int, commit: str | None, notes: Sequence[str] = ()
) -> str:
    """The reply in one review thread: what changed, with the commit, or why nothing did."""
    answer = outcome.answer.strip()
    if outcome.changed and commit and outcome.touched is False:
        lead = (
            f"**Still open**: the agent said it changed this, but {commit} does not change "
            "these lines, so Rolecall left the thread unresolved."
        )
    elif outcome.changed and commit:
        lead = f"**Changed** in {commit}."
    elif outcome.changed and not commit:
        lead = "**Not changed**: the agent meant to change this, but it left no changes."
    elif outcome.changed is False:
        lead = "**Not changed.**"
    elif commit:
        lead = f"Rolecall pushed {commit} for this review."
    else:
        lead = "Rolecall changed nothing for this review."
    if not answer:
        answer = (
            "The agent did not answer this thread separately; the summary on the pull "
            "request says what it did."
        )
    lines = [f"{lead} {answer}" if "\n" not in answer else f"{lead}\n\n{answer}"]
    lines += [f"\n_{note}_" for note in notes]
    lines += ["", thread_marker(job_id, outcome.ref)]
    return "\n".join(lines)


def fix_report(
    outcomes: Sequence[ThreadOutcome],
    *,
    summary: InertText,
    branch: str,
    commit: str | None,
    notes: Sequence[str] = (),
    notice: str = "",
) -> str:
    """The summary the tracking comment ends with once review feedback was addressed."""
    lines = [notice, ""] if notice else []
    if commit:
        lines.append(f"Pushed {commit} to `{branch}`.")
    else:
        lines.append("No commits: nothing in the feedback needed a change to the code.")
    lines += [f"\n_{note}_" for note in notes]
    if outcomes:
        lines += ["", "| thread | where | outcome |", "| --- | --- | --- |"]
        for item in outcomes:
            path = _table_cell(inert_plain_text(item.path))  # a file the agent may have named
            where = f"`{path}`" + (f" line {item.line}" if item.line else "")
            ref = f"[{item.ref}]({item.reply_url})" if item.reply_url else item.ref
            lines.append(f"| {ref} | {where} | {_outcome_word(item)} |")
    if summary.strip():
        lines += ["", "<details><summary>The agent's summary</summary>", ""]
        lines += [summary.strip(), "", "</details>"]
    return "\n".join(lines)


def _outcome_word(item: ThreadOutcome) -> str:
    if item.changed and item.touched is False:
        return "said changed, but its lines were not: left open"
    if item.changed and item.resolved:
        return "changed, resolved"
    if item.changed:
        return "changed"
    if item.changed is False:
        return "not changed"
    return "no answer"


def right_side_lines(patch: str | None) -> frozenset[int]:
    """Lines of the new file that GitHub's diff of a file shows: added and context lines.

    Only these take an inline review comment on the right side; anything else is GitHub's
    422 "Line could not be resolved". A file without a patch (binary, too large) has none.
    """
    lines: set[int] = set()
    new = 0
    for raw in (patch or "").split("\n"):
        if raw.startswith("@@"):
            spans = raw.split("@@")
            target = spans[1].split()[1] if len(spans) > 1 and len(spans[1].split()) > 1 else ""
            new = int(target[1:].split(",")[0]) if target.startswith("+") else 0
        elif new and raw.startswith(("+", " ")):
            lines.add(new)
            new += 1
        elif new and raw == "":
            continue  # a trailing newline of the patch text, not a line of the diff
    return frozenset(lines)


@dataclass(frozen=True)
class ReviewFinding:
    """A finding to post: `path` (already redacted) anchors it, `body` is inert text."""

    path: str
    line: int | None
    body: InertText


@dataclass(frozen=True)
class PlannedReview:
    """The review to post: its body, and inline comments on lines the diff shows."""

    body: str
    comments: list[dict[str, Any]]
    outside: int  # findings put in the body because their line is not in the diff


def plan_review(
    summary: InertText,
    findings: Sequence[ReviewFinding],
    diff_lines: Mapping[str, frozenset[int]],
    *,
    focus: str,
    role: str,
    model: str,
    spend: Spend,
    job_id: int,
    anchor: bool = True,
) -> PlannedReview:
    """Inline comments for findings on lines of the diff; every other finding in the body.

    `diff_lines` maps each changed file to `right_side_lines` of its patch. With
    `anchor=False` every finding goes in the body (the fallback when GitHub refuses the
    inline comments anyway, e.g. because the head moved meanwhile).
    """
    comments: list[dict[str, Any]] = []
    outside: list[ReviewFinding] = []
    for finding in findings:
        shown = diff_lines.get(finding.path, frozenset())
        if anchor and finding.line is not None and finding.line in shown:
            comment = {"path": finding.path, "line": finding.line, "side": "RIGHT"}
            comments.append({**comment, "body": finding.body})
        else:
            outside.append(finding)
    lines = [summary.strip() or "(The reviewer gave no summary.)"]
    if focus.strip():
        lines[:0] = [f"Review focus: {' '.join(focus.split())[:300]}", ""]
    if outside:
        lines += ["", "### Findings not on a line of the diff", ""]
        for finding in outside:
            where = finding.path + (f":{finding.line}" if finding.line is not None else "")
            # Flattened to one line, a fenced block of the body is no longer one: made
            # inert again as the plain text it has become.
            said = inert_plain_text(" ".join(finding.body.split()))
            lines.append(f"- `{_table_cell(inert_plain_text(where))}` — {said}")
    if not findings:
        lines += ["", "No inline findings."]
    lines += ["", f"<sub>Role `{role}` · model `{model}` · {spend.line()}</sub>"]
    lines += ["", "Rolecall only comments: it never approves or requests changes.", ""]
    lines.append(job_marker(job_id))
    return PlannedReview("\n".join(lines), comments, len(outside))


def review_report(url: str, plan: PlannedReview) -> str:
    """What the tracking comment says once the review is posted."""
    text = f"Posted [the review]({url}) with {len(plan.comments)} inline comment(s)"
    if plan.outside:
        text += f"; {plan.outside} finding(s) not on a line of the diff are in its body"
    return text + "."
