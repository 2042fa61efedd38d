"""What the implement playbook adds for roles: routing before anything is posted, answers.

A role command (`/backend`) or a label may name nothing of Rolecall's, so it is routed
against the default branch's roles and `.github/rolecall.yml` before the 👀: a `/shrug`
ends here without a trace on GitHub. `/implement` is Rolecall's own command, so it is
acknowledged at once and routed (to the config's default role) in the brief phase. A
role that cannot change files answers with its final message as a comment, made inert
(bot.render.inert) like everything the agent writes.
"""

from __future__ import annotations

from bot.jobs.context import Delivery, Given, JobSkipped, JobStopped, Screened, Services, Work
from bot.jobs.failures import explain_failure
from bot.jobs.playbooks.words import agent_words
from bot.jobs.setup import load_setup
from bot.render import roles as render_roles
from handlers.command_names import IMPLEMENT
from handlers.roles import Refuse, Skip, describe_trigger, plausibly_ours, resolve


def route_before_acknowledging(svc: Services, given: Given) -> Screened:
    """The role a role command or label names, or the job ends (quietly if not ours)."""
    decision = given.decision
    if decision.trigger == "comment" and (decision.command or decision.kind) == IMPLEMENT:
        return Screened()
    try:
        loaded = load_setup(svc, given)
    except Exception as exc:
        if not plausibly_ours(decision):  # a `bug` label must not earn an error comment
            said = explain_failure(exc)
            raise JobSkipped(f"{describe_trigger(decision)}: could not read roles: {said}") from exc
        raise
    route = resolve(decision, loaded.setup)
    if isinstance(route, Skip):
        raise JobSkipped(route.reason)
    if isinstance(route, Refuse):
        raise JobStopped(route.message)
    return Screened(loaded=loaded, role=route.role)


def post_answer(given: Given, work: Work) -> Delivery:
    """A read-only role's final message, as a comment on the issue; no branch, no PR."""
    role = work.briefing.role
    answer = agent_words(given, work.target.base.info).markdown(work.run.result.summary)
    body = render_roles.role_answer(role, answer, given.job_id)
    given.repo.comment(given.decision.issue_number, body)
    return Delivery(
        success_note="answer posted",
        report=(
            f"The `{role.name}` role changes no files, so its answer is the comment below "
            "instead of a pull request."
        ),
    )
