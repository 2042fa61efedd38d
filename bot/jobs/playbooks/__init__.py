"""What differs between kinds of job; the worker runs the phases they share.

A playbook may end a job quietly before anything is posted (`screen`, raising
`JobSkipped`), decides what the target must be (`check_target`), how the checkout is made
(`prepare`), what the agent is told (`brief`) and what is done with its work
(`deliver`), and what is kept of a run that stopped early (`keep_partial`: no work is
ever lost). Each kind lives in its own module and is listed in `PLAYBOOKS`.
"""

from __future__ import annotations

from typing import Protocol

from agents.roles.loader import Role
from bot.jobs.context import (
    Checkout,
    Delivery,
    Given,
    JobStopped,
    LoadedSetup,
    Screened,
    Services,
    Target,
    Work,
)
from bot.jobs.playbooks.ci import Ci
from bot.jobs.playbooks.continue_run import Continue
from bot.jobs.playbooks.fix import Fix
from bot.jobs.playbooks.implement import Implement
from bot.jobs.playbooks.review import Review
from handlers.command_names import CI, CONTINUE, FIX, IMPLEMENT, REVIEW


class Playbook(Protocol):
    """Each method takes what the phases before it produced and returns its own product."""

    def screen(self, svc: Services, given: Given) -> Screened: ...
    def check_target(self, svc: Services, given: Given, screened: Screened) -> Target: ...
    def prepare(self, svc: Services, given: Given, target: Target) -> Checkout: ...
    def brief(
        self, given: Given, target: Target, checkout: Checkout, loaded: LoadedSetup, role: Role
    ) -> str: ...
    def deliver(self, svc: Services, given: Given, work: Work) -> Delivery: ...
    def keep_partial(
        self, svc: Services, given: Given, work: Work, stop: JobStopped
    ) -> Delivery | None: ...


PLAYBOOKS: dict[str, Playbook] = {
    IMPLEMENT: Implement(),
    FIX: Fix(),
    REVIEW: Review(),
    CI: Ci(),
    CONTINUE: Continue(),
}
