"""What the implement playbook adds for roles: routing before anything is posted, answers.

A role command (`/backend`) or a label may name nothing of Rolecall's, so it is routed
against the default branch's roles and `.github/rolecall.yml` before the 👀: a `/shrug`
ends here without a trace on GitHub. `/implement` is Rolecall's own command, so it is
acknowledged at once and routed (to the config's default role) in the brief phase. A
role that cannot change files answers with its final message as a comment, made inert
(bot.inert) like everything the agent writes.
"""

from __future__ import annotations

from bot import render_roles
from bot.jobcontext import Context, JobSkipped, JobStopped, Services
from bot.playbooks.words import agent_words
from bot.repo_setup import load_setup
from bot.routing import Refuse, Skip, describe_trigger, plausibly_ours, resolve
from handlers.role_commands import IMPLEMENT


def route_before_acknowledging(svc: Services, ctx: Context) -> None:
    """Bind `ctx.role` for a role command or label, or end the job (quietly if not ours)."""
    decision = ctx.decision
    if decision.trigger == "comment" and (decision.command or decision.kind) == IMPLEMENT:
        return
    try:
        setup = load_setup(svc, ctx)
    except Exception as exc:
        if not plausibly_ours(decision):  # a `bug` label must not earn an error comment
            raise JobSkipped(f"{describe_trigger(decision)}: could not read roles: {exc}") from exc
        raise
    route = resolve(decision, setup)
    if isinstance(route, Skip):
        raise JobSkipped(route.reason)
    if isinstance(route, Refuse):
        raise JobStopped(route.message)
    ctx.role = route.role


def post_answer(svc: Services, ctx: Context) -> None:
    """A read-only role's final message, as a comment on the issue; no branch, no PR."""
    assert ctx.role is not None and ctx.result is not None
    answer = agent_words(ctx).markdown(ctx.result.summary)
    body = render_roles.role_answer(ctx.role, answer, ctx.job_id)
    ctx.repo.comment(ctx.decision.issue_number, body)
    ctx.success_note = "answer posted"
    ctx.report = (
        f"The `{ctx.role.name}` role changes no files, so its answer is the comment below "
        "instead of a pull request."
    )
