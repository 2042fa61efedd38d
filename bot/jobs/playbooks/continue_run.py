"""`/continue [notes]`: resume a run that stopped early, on its branch, and finish it.

On an issue it resumes the latest run there that left a branch; on a pull request it
resumes the run that opened it (named by the job marker in its description, checked
against the ledger so a copied marker picks nothing). The role is the earlier run's,
the branch is checked out as it is now, and the brief says why the earlier run stopped
and what it said it had done (its own words, fenced as data). The delivery is the
implement playbook's: new commits pushed onto the branch, and the draft PR opened or
rewritten as complete.
"""

from __future__ import annotations

from agents import workspace
from agents.brief import EarlierRun
from bot.jobs.checkout import fresh_checkout
from bot.jobs.context import (
    Checkout,
    Delivery,
    Given,
    JobStopped,
    Resumed,
    Screened,
    Services,
    Target,
    Work,
)
from bot.jobs.playbooks.branch_delivery import commit_work, push_work, show_pull
from bot.jobs.playbooks.implement import Implement
from bot.jobs.playbooks.words import agent_words
from bot.jobs.setup import bind_default_branch, fetch_mirror
from bot.jobs.slots import model_shown, wait_turn
from bot.render import tracking
from bot.store.ledger import Job
from handlers.command_names import CONTINUE, IMPLEMENT


class Continue(Implement):
    def screen(self, svc: Services, given: Given) -> Screened:
        """`/continue` is Rolecall's own command: it always asks for work."""
        return Screened()

    def check_target(self, svc: Services, given: Given, screened: Screened) -> Target:
        """The earlier run to resume, its branch still there, its issue or PR still open."""
        earlier = _earlier_run(svc, given)
        assert earlier.id is not None and earlier.branch is not None
        number = earlier.issue_number or given.decision.issue_number
        issue = given.repo.issue(number)
        if issue.state != "open":
            raise JobStopped(f"#{number} is closed, so Rolecall did not continue job {earlier.id}")
        base = bind_default_branch(given.repo)
        target = Target(
            base=base,
            title=str(issue.title),
            branch=earlier.branch,
            role_name=earlier.role or "",
            screened=screened,
            resumes=Resumed(
                earlier.id,
                number,
                EarlierRun(stopped=_first_line(earlier.outcome), summary=earlier.summary or ""),
            ),
        )
        wait_turn(svc, given, target.role_name, model_shown(svc, None, None))
        return target

    def prepare(self, svc: Services, given: Given, target: Target) -> Checkout:
        """The earlier run's branch, as it is now, checked out on that branch."""
        info = target.base.info
        mirror = fetch_mirror(svc, given, info)
        head = workspace.fetch_branch(mirror, info.clone_url, given.repo.token(), target.branch)
        return fresh_checkout(svc, given, mirror, head, target.branch, existing=True)

    def deliver(self, svc: Services, given: Given, work: Work) -> Delivery:
        """New commits pushed onto the branch; the draft PR opened or rewritten as complete."""
        words = agent_words(given, work.target.base.info)
        notice = commit_work(svc, given, work, words, subject=self._subject(work, words))
        pushed = push_work(given, work) if notice is not None else None
        if notice is None and not workspace.commits_since(
            work.checkout.worktree, work.target.base.sha
        ):
            raise JobStopped(
                "The branch holds no changes, and the agent made none. Its final message:\n\n"
                + (words.markdown(work.run.result.summary).strip() or "(empty)"),
                state="no_changes",
            )
        pull, body = show_pull(given, work, words, notice or "")
        given.record.save(pr_url=pull.html_url)
        return Delivery(
            pr_url=pull.html_url,
            success_note="pull request completed",
            pushed_sha=pushed,
            check_summary=body,
        )


def _earlier_run(svc: Services, given: Given) -> Job:
    """The run `/continue` resumes here, or `JobStopped` saying there is none."""
    decision, repo = given.decision, given.repo
    if decision.is_pull_request:
        pull = repo.pull(decision.issue_number)
        marked = tracking.marked_job(pull.body)
        job = svc.ledger.get_job(marked) if marked is not None else None
        if (
            job is not None
            and job.repo_full_name == repo.full_name
            and job.pr_url == pull.html_url
            and job.branch == pull.head_ref
        ):
            return job
        raise JobStopped(
            f"pull request #{decision.issue_number} was not opened by a Rolecall run, so "
            "there is nothing to continue here"
        )
    for job in svc.ledger.jobs_for_issue(
        repo.full_name, decision.issue_number, limit=50, admitted_only=True
    ):
        if job.id != given.job_id and job.kind in (IMPLEMENT, CONTINUE) and job.branch:
            return job
    raise JobStopped(
        f"no earlier Rolecall run on #{decision.issue_number} left a branch, so there is "
        "nothing to continue; `/implement` starts one"
    )


def _first_line(outcome: str | None) -> str:
    line = (outcome or "").strip().splitlines()
    return line[0] if line else "it stopped"
