"""Reading a repository's roles and `.github/rolecall.yml` from its default branch.

Both are read from the mirror at the default branch's head, never from a checkout and
never from a pull request's branch: a pull request cannot add a role, or change the
rules, that it is then run or judged by.
"""

from __future__ import annotations

from pathlib import Path

from agents import workspace
from agents.roles.loader import ROLE_DIRS, Role
from bot.github import RepoClient, RepoInfo
from bot.jobs.context import DefaultBranch, Given, JobStopped, LoadedSetup, Services
from bot.providers import provider_names
from bot.settings import Settings
from handlers.command_names import IMPLEMENT
from handlers.config import CONFIG_PATH, ConfigProblem, render_problems
from handlers.roles import Refuse, RepoSetup, RunRole, build_setup, resolve

# A common misspelling that would otherwise be ignored without a word.
_YAML_SPELLING = ".github/rolecall.yaml"


def bind_default_branch(repo: RepoClient) -> DefaultBranch:
    """The default branch and its head SHA now, which the whole job then works from."""
    info = repo.info()
    return DefaultBranch(info, repo.branch_sha(info.default_branch))


def fetch_mirror(svc: Services, given: Given, info: RepoInfo) -> Path:
    """The job's repository's mirror, fetched now.

    Mirrors are kept by installation and repository id, never by name: a repository
    renamed, transferred or deleted and re-created under the same name by someone else
    never shares an object store, which the sandbox sees read-only, with another.
    """
    return workspace.sync_mirror(
        svc.settings.data_dir,
        f"installation-{given.repo.installation_id}",
        f"repository-{info.id}",
        info.clone_url,
        given.repo.token(),
    )


def load_setup(
    svc: Services, given: Given, base: DefaultBranch | None = None, mirror: Path | None = None
) -> LoadedSetup:
    """The roles and config of the job's repository at `base` (bound now if not given)."""
    base = base or bind_default_branch(given.repo)
    mirror = mirror or fetch_mirror(svc, given, base.info)
    setup = read_setup(mirror, base.sha, base.info.default_branch, svc.settings)
    return LoadedSetup(base, mirror, setup)


def read_setup(mirror: Path, sha: str, default_branch: str, settings: Settings) -> RepoSetup:
    """Role files and the config at `sha`, parsed and checked against each other."""
    files: dict[str, str] = {}
    for directory in ROLE_DIRS:
        for path in workspace.list_default_branch_files(mirror, sha, directory):
            text = workspace.read_default_branch_file(mirror, sha, path)
            if text is not None:
                files[path] = text
    problems: list[ConfigProblem] = []
    try:
        config_text = workspace.read_default_branch_file(mirror, sha, CONFIG_PATH)
    except workspace.WorkspaceError as exc:  # larger than Rolecall reads
        config_text = None
        problems.append(ConfigProblem("", str(exc)))
    if config_text is None and workspace.read_default_branch_file(mirror, sha, _YAML_SPELLING):
        problems.append(
            ConfigProblem("", f"Rolecall reads `{CONFIG_PATH}`: rename `{_YAML_SPELLING}` to it")
        )
    return build_setup(
        default_branch,
        config_text,
        files,
        default_model=settings.model,
        providers=provider_names(settings),
        extra_problems=problems,
    )


def role_for_job(given: Given, setup: RepoSetup, routed: Role | None, role_name: str) -> Role:
    """The role this job runs, from the default branch; `JobStopped` when there is none.

    A broken config stops every kind of job: running with defaults the maintainers did
    not choose would be worse than saying what to fix.
    """
    if setup.problems:
        raise JobStopped(render_problems(setup.problems, setup.default_branch))
    if routed is not None:  # routed before it was acknowledged
        return routed
    if given.decision.kind == IMPLEMENT:
        route = resolve(given.decision, setup)
        if isinstance(route, RunRole):
            return route.role
        raise JobStopped(route.message if isinstance(route, Refuse) else route.reason)
    role = setup.roles.get(role_name)
    if role is None:
        raise JobStopped(
            f"no role named `{role_name}` in this repository; "
            f"available: {', '.join(setup.roles.names())}"
        )
    return role
