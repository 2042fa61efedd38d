"""The pull request Rolecall opens: its title and its body.

The agent's summary, commands and file names arrive inert (`bot.render.inert`);
Rolecall's own lines (`Fixes #N`, the tables, the marker) are added around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.render.inert import InertText, inert_plain_text
from bot.render.markdown import fence_for, table_cell
from bot.render.tracking import Spend, job_marker


@dataclass(frozen=True)
class CommandRun:
    command: InertText  # the agent chose it
    exit_code: int | None  # None when it timed out
    timed_out: bool = False


def left_out_note(left_out: Sequence[str]) -> str:
    """What the agent made that Rolecall did not commit (FIFOs, devices, nested `.git`)."""
    if not left_out:
        return ""
    shown = ", ".join(f"`{table_cell(inert_plain_text(item))}`" for item in left_out[:10])
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
            lines.append(f"| `{table_cell(run.command)}` | {exit_text} |")
        if len(commands) > 20:
            lines.append(f"\n({len(commands) - 20} earlier commands not shown)")
    else:
        lines.append("The agent ran no commands, so nothing was verified by running code.")
    if diff_stat.strip():
        fence = fence_for(diff_stat)  # file names are the agent's: no fence of theirs ends it
        lines += ["", "<details><summary>Files changed</summary>", "", fence, diff_stat.strip()]
        lines += [fence, "</details>"]
    lines += ["", "## Run", "", f"Role `{role}` · model `{model}` · {spend.line()}"]
    lines += ["", "This pull request is a draft: review it before marking it ready.", ""]
    lines.append(job_marker(job_id))
    return "\n".join(lines)


def pull_request_title(issue_title: str) -> str:
    return issue_title.strip()[:200] or "Rolecall change"


INCOMPLETE = "[incomplete]"


def incomplete_title(title: str) -> str:
    """The title of a draft PR whose run stopped before it finished."""
    return f"{INCOMPLETE} {title}"


def incomplete_note(reason: InertText, issue_number: int) -> str:
    """The first lines of an incomplete PR: why the run stopped, and how to go on."""
    said = " ".join(reason.split())
    return (
        "> [!WARNING]\n"
        f"> This run stopped before it finished: {said}\n"
        ">\n"
        "> The branch holds its work so far. Comment `/continue` (with notes, if you like) "
        f"on this pull request or on #{issue_number} to resume it on this branch."
    )
