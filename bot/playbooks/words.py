"""The agent's words as a job may post them: redacted, then inert (bot.inert).

One `Neutralizer` per job, bound to the job's redactor (which knows the role's secrets)
and to the host its repository lives on, where images may stay images.
"""

from __future__ import annotations

from bot.inert import Neutralizer, github_host_of
from bot.jobcontext import Context


def agent_words(ctx: Context) -> Neutralizer:
    """How this job makes agent text safe to post; needs the repository bound (ctx.info)."""
    assert ctx.info is not None
    return Neutralizer(ctx.redact, github_host_of(ctx.info.clone_url))
