"""Review cycles: replies in threads, the fix summary, and the reviews Rolecall posts.

The hidden `<!-- rolecall:… -->` markers let a resumed job find the replies it already
posted instead of posting them twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.render.inert import InertText, inert_plain_text
from bot.render.markdown import table_cell
from bot.render.tracking import Spend, job_marker


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
    # Whether the pushed commit changed the thread's lines (handlers.touched_lines); None when
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
            path = table_cell(inert_plain_text(item.path))  # a file the agent may have named
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
            lines.append(f"- `{table_cell(inert_plain_text(where))}` — {said}")
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
