"""The agent's words as a job may post them: redacted, then inert (bot.render.inert).

One `Neutralizer` per job, bound to the job's redactor (which knows the role's secrets)
and to the host its repository lives on, where images may stay images.
"""

from __future__ import annotations

from bot.github import RepoInfo
from bot.jobs.context import Given
from bot.render.inert import Neutralizer, github_host_of


def agent_words(given: Given, info: RepoInfo) -> Neutralizer:
    """How this job makes agent text safe to post, for the repository it works on."""
    return Neutralizer(given.redact, github_host_of(info.clone_url))
