"""What Rolecall posts about roles and its own commands, as pure functions.

`/help` lists what this repository can ask for; `/status` says what is running and
waiting on an issue; a read-only role's answer is posted as its own comment; a job that
was superseded or cancelled before it started gets its tracking comment rewritten by
whoever stopped it. Role descriptions are the repository's text, so table cells are
escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from agents.roles.loader import Role, RoleFileError, slugify
from bot.render import tracking
from bot.store.ledger import Job
from handlers.config import CONFIG_PATH, LABEL_PREFIX, render_problems
from handlers.roles import RepoSetup

BUILTIN_HELP: tuple[tuple[str, str], ...] = (
    ("/help", "this list"),
    ("/status", "what Rolecall is doing on this issue or pull request"),
    ("/cancel", "stops the job running here (and the one waiting, if any)"),
    ("/retry", "runs the last job here again"),
    ("/continue [notes]", "resumes a run that stopped early, on its branch"),
)
PULL_REQUEST_HELP: tuple[tuple[str, str], ...] = (
    ("/fix [notes]", "on a pull request Rolecall opened: addresses the review feedback"),
    ("/review [focus]", "on a pull request: reviews its changes"),
)


def help_reply(repo_full_name: str, setup: RepoSetup) -> str:
    """Every command and role this repository has, with what each does, in one comment."""
    config = setup.config if not setup.problems else None
    default = config.default_role if config else "implementer"
    rows = [("/implement [notes]", f"runs `{default}`, the default role, on this issue")]
    rows += [("/<role> [notes]", "runs that role (see the roles below) on this issue")]
    if config:
        mapped = config.commands.items()
        rows += [(f"/{c} [notes]", f"runs `{r}` ({CONFIG_PATH})") for c, r in mapped]
    rows += [*BUILTIN_HELP, *PULL_REQUEST_HELP]
    lines = [f"**Rolecall in {repo_full_name}**", "", "| command | what it does |", "| --- | --- |"]
    lines += [f"| `{_cell(command)}` | {_cell(what)} |" for command, what in rows]
    lines += ["", "**Roles**", "", "| role | what it does | start it with | delivers |"]
    lines += ["| --- | --- | --- | --- |"]
    lines += [_role_row(role, setup) for role in setup.roles.roles]
    if setup.roles.errors:
        lines += ["", "Role files Rolecall could not read:", *_file_errors(setup.roles.errors)]
    if setup.problems:
        lines += ["", render_problems(setup.problems, setup.default_branch)]
    lines += ["", f"Roles and `{CONFIG_PATH}` are read from the default branch only."]
    return "\n".join(lines)


def status_reply(number: int, running: Job | None, pending: Job | None, last: Job | None) -> str:
    """What runs and waits on an issue, and how its last job ended."""
    lines = [f"**Rolecall on #{number}**", ""]
    if running is not None:
        lines.append(f"- Running: {_job_line(running)}, now in the `{running.phase}` phase")
    if pending is not None:
        lines.append(f"- Waiting for it: {_job_line(pending)}")
    if last is not None:
        where = f": {last.pr_url}" if last.pr_url else ""
        lines.append(f"- Last finished: {_job_line(last)}, {last.state}{where}")
    if running is None and pending is None:
        lines.append("- Nothing is running or waiting here.")
    return "\n".join(lines)


def role_answer(role: Role, summary: str, job_id: int) -> str:
    """A read-only role's final message, posted as the answer on the issue."""
    text = summary.strip() or "(the role finished without an answer)"
    return (
        f"**The `{role.name}` role's answer** (it changes no files, so there is no pull "
        f"request)\n\n{text}\n\n{tracking.job_marker(job_id)}"
    )


def stopped_before_start(job: Job, detail: str, default_model: str) -> str:
    """The tracking comment of a job that ended while it waited (superseded, cancelled)."""
    assert job.id is not None
    return tracking.tracking_comment(
        tracking.Tracking(
            job_id=job.id,
            role=job.role or job.kind,
            model=job.model or default_model,
            phase=job.phase or "acknowledge",
            outcome="cancelled",
            detail=detail,
            kind=job.kind,
        )
    )


def queued_tracking(job: Job, role: str, model: str, waiting_for: int) -> str:
    """The tracking comment of a job parked behind the one running on its issue."""
    assert job.id is not None
    return tracking.tracking_comment(
        tracking.Tracking(
            job_id=job.id,
            role=role,
            model=model,
            phase="authorize",
            outcome="queued",
            detail=waiting_note(waiting_for),
            kind=job.kind,
        )
    )


def waiting_note(running_job_id: int) -> str:
    return (
        f"Waiting for job {running_job_id} to end. A newer request on this issue replaces "
        "this one; `/cancel` stops both."
    )


def _role_row(role: Role, setup: RepoSetup) -> str:
    ways = [f"`/{role.name}`"]
    config = setup.config if not setup.problems else None
    if config:
        ways += [f"`/{c}`" for c, r in config.commands.items() if slugify(r) == role.name]
        labels = config.labels.items()
        ways += [f"label `{_cell(lb)}`" for lb, r in labels if slugify(r) == role.name]
        if slugify(config.default_role) == role.name:
            ways.insert(0, "`/implement`")
    ways.append(f"label `{LABEL_PREFIX}{role.name}`")
    delivers = "a draft pull request" if role.can_write else "a comment (changes no files)"
    source = "built-in" if role.source == "builtin" else f"`{_cell(role.source)}`"
    what = _cell(role.description.splitlines()[0] if role.description else "")
    return f"| `{role.name}` ({source}) | {what} | {', '.join(ways)} | {delivers} |"


def _file_errors(errors: Sequence[RoleFileError]) -> list[str]:
    return [f"- `{_cell(error.path)}`: {_cell(error.reason)}" for error in errors]


def _job_line(job: Job) -> str:
    who = f" by @{job.sender_login}" if job.sender_login else ""
    return f"job {job.id} (`{job.role or job.kind}`{who})"


def _cell(text: str) -> str:
    """Text that stays inside one table cell: one line, no pipes, no code-span breaks."""
    flat = " ".join(text.split())
    flat = flat if len(flat) <= 200 else flat[:197] + "…"
    return flat.replace("|", "\\|").replace("`", "'")
