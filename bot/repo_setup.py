"""Reading a repository's roles and `.github/rolecall.yml` from its default branch.

Both are read from the mirror at the default branch's head, never from a checkout and
never from a pull request's branch: a pull request cannot add a role, or change the
rules, that it is then run or judged by.
"""

from __future__ import annotations

from pathlib import Path

from agents import workspace
from agents.roles import CLAUDE_DIR, COPILOT_DIR, Role
from bot.jobcontext import Context, JobStopped, Services
from bot.providers import provider_names
from bot.routing import Refuse, RepoSetup, RunRole, build_setup, resolve
from bot.settings import Settings
from handlers.config import CONFIG_PATH, ConfigProblem, render_problems
from handlers.role_commands import IMPLEMENT

# A common misspelling that would otherwise be ignored without a word.
_YAML_SPELLING = ".github/rolecall.yaml"


def bind_default_branch(svc: Services, ctx: Context) -> Path:
    """The default branch's head SHA, fetched into the repository's mirror.

    Sets `ctx.info`, `ctx.base_sha` and `ctx.mirror` (a playbook that binds them later
    finds them set) and returns the mirror.
    """
    ctx.info = ctx.info or ctx.repo.info()
    ctx.base_sha = ctx.base_sha or ctx.repo.branch_sha(ctx.info.default_branch)
    if ctx.mirror is None:
        ctx.mirror = fetch_mirror(svc, ctx)
    return ctx.mirror


def fetch_mirror(svc: Services, ctx: Context) -> Path:
    """The job's repository's mirror, fetched now.

    Mirrors are kept by installation and repository id, never by name: a repository
    renamed, transferred or deleted and re-created under the same name by someone else
    never shares an object store, which the sandbox sees read-only, with another.
    """
    assert ctx.info is not None
    return workspace.sync_mirror(
        svc.settings.data_dir,
        f"installation-{ctx.repo.installation_id}",
        f"repository-{ctx.info.id}",
        ctx.info.clone_url,
        ctx.repo.token(),
    )


def load_setup(svc: Services, ctx: Context) -> RepoSetup:
    """The roles and config of the job's repository, read once per job."""
    if ctx.setup is None:
        mirror = bind_default_branch(svc, ctx)
        assert ctx.info is not None
        ctx.setup = read_setup(mirror, ctx.base_sha, ctx.info.default_branch, svc.settings)
    return ctx.setup


def read_setup(mirror: Path, sha: str, default_branch: str, settings: Settings) -> RepoSetup:
    """Role files and the config at `sha`, parsed and checked against each other."""
    files: dict[str, str] = {}
    for directory in (COPILOT_DIR, CLAUDE_DIR):
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


def role_for_job(ctx: Context, setup: RepoSetup) -> Role:
    """The role this job runs, from the default branch; `JobStopped` when there is none.

    A broken config stops every kind of job: running with defaults the maintainers did
    not choose would be worse than saying what to fix.
    """
    if setup.problems:
        raise JobStopped(render_problems(setup.problems, setup.default_branch))
    if ctx.role is not None:  # routed before it was acknowledged
        return ctx.role
    if ctx.decision.kind == IMPLEMENT:
        route = resolve(ctx.decision, setup)
        if isinstance(route, RunRole):
            return route.role
        raise JobStopped(route.message if isinstance(route, Refuse) else route.reason)
    role = setup.roles.get(ctx.decision.role)
    if role is None:
        raise JobStopped(
            f"no role named `{ctx.decision.role}` in this repository; "
            f"available: {', '.join(setup.roles.names())}"
        )
    return role
