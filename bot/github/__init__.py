"""GitHub clients: the App (JWT) and one repository (installation token), with the few verbs
Rolecall uses.

Every token is minted for the one repository and the permissions a job needs, so a
job can touch nothing else; the App keeps it for later jobs on that repository with
those permissions until it is close to expiry. Everything posted passes through the
job's `Redactor`. Calls go over one pooled keep-alive connection pool per installation
(and one for the App itself), kept for the life of the process (`PooledTransport`).
githubkit has no default timeout; every client here sets one, and turns off its HTTP
cache, with which the timeout is silently ignored (hishel 1.x).

The modules, by job: `transport` (timeout, pooled connections), `tokens` (keeping and
signing with installation tokens), `app` (`GitHubApp`), `login` (`BotLoginLearner`),
`session` + `issues`/`pulls`/`git_data`/`checks` + `repo` (`RepoClient`), `records` (the
small values the clients return) and `errors`. The names below are re-exported for callers
outside this package; modules inside it import each other directly.
"""

from bot.github.app import JOB_PERMISSIONS, GitHubApp
from bot.github.errors import GitHubError, NotFastForward
from bot.github.login import BotLoginLearner
from bot.github.records import (
    BranchPush,
    CheckRunInfo,
    DiffFile,
    GitCommitInfo,
    InstallationToken,
    PullInfo,
    PullRequestRef,
    RepoInfo,
    ReviewRef,
    ThreadState,
)
from bot.github.repo import RepoClient
from bot.github.tokens import REFRESH_MARGIN
from bot.github.transport import KEEPALIVE_EXPIRY, TIMEOUT, PooledTransport

__all__ = [
    "JOB_PERMISSIONS",
    "KEEPALIVE_EXPIRY",
    "REFRESH_MARGIN",
    "TIMEOUT",
    "BotLoginLearner",
    "BranchPush",
    "CheckRunInfo",
    "DiffFile",
    "GitCommitInfo",
    "GitHubApp",
    "GitHubError",
    "InstallationToken",
    "NotFastForward",
    "PooledTransport",
    "PullInfo",
    "PullRequestRef",
    "RepoClient",
    "RepoInfo",
    "ReviewRef",
    "ThreadState",
]
