"""What differs between kinds of job; the worker runs the phases they share.

A playbook may end a job quietly before anything is posted (`screen`, raising
`JobSkipped`), decides what the target must be (`check_target`), how the checkout is made
(`prepare`), what the agent is told (`brief`) and what is done with its work
(`deliver`). Each kind lives in its own module and is listed in `PLAYBOOKS`.
"""

from __future__ import annotations

from typing import Protocol

from bot.jobcontext import Context, Services
from bot.playbooks.ci import Ci
from bot.playbooks.fix import Fix
from bot.playbooks.implement import Implement
from bot.playbooks.review import Review


class Playbook(Protocol):
    def screen(self, svc: Services, ctx: Context) -> None: ...
    def check_target(self, svc: Services, ctx: Context) -> None: ...
    def prepare(self, svc: Services, ctx: Context) -> None: ...
    def brief(self, svc: Services, ctx: Context) -> str: ...
    def deliver(self, svc: Services, ctx: Context) -> None: ...


PLAYBOOKS: dict[str, Playbook] = {
    "implement": Implement(),
    "fix": Fix(),
    "review": Review(),
    "ci": Ci(),
}
