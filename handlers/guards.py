"""Gates before action, as pure predicates (invariant 2).

Each answers one question from data it is handed, so each is table-tested on its own and
a handler reads as a short list of gates. Whether someone may start work is decided by
`has_write` over the *live* permission the worker fetches; the payload's
`author_association` describes a relationship, not a permission, and never counts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from handlers.command_names import RESERVED_COMMANDS
from handlers.config import LABEL_PREFIX
from handlers.decisions import Ignore, StartJob
from handlers.events import Account

WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})


def is_user_sender(sender: Account) -> bool:
    """Whether a person sent this: only type "User" (not Bot, Organization, Mannequin)."""
    return sender.type == "User"


def is_self(sender: Account, bot_login: str | None) -> bool:
    """Whether Rolecall's own account sent this, whatever type the payload claims.

    Logins compare case-insensitively (GitHub's are) and with or without the `[bot]`
    suffix, so a misconfigured `ROLECALL_BOT_LOGIN` of "rolecall" still matches
    "rolecall[bot]": erring this way only ever ignores more.
    """
    if not bot_login:
        return False
    return _bare(sender.login) == _bare(bot_login)


def is_allowlisted_bot(sender: Account, allowlist: Collection[str]) -> bool:
    """Whether the sender is a Bot account whose full login is on the allowlist.

    Both must hold: a User who registered `dependabot-bot` is just a user, and the login
    must match whole (case-insensitively, as GitHub compares logins), suffix included.
    """
    if sender.type != "Bot":
        return False
    login = sender.login.casefold()
    return any(login == allowed.casefold() for allowed in allowlist)


def has_write(permission: str | None) -> bool:
    """Whether a repository permission (from the collaborator permission API) can write.

    The API's `permission` is admin/write/read/none and its `role_name` may also be
    maintain or triage; admin, maintain and write can push, so they can start work.
    """
    return (permission or "").strip().lower() in WRITE_PERMISSIONS


def refusal_helps(request: StartJob) -> bool:
    """Whether telling someone who cannot write "you cannot start this" helps them.

    Only when they named Rolecall unmistakably: one of its own commands (`/implement`,
    `/status`, `/ci`, …) or a `rolecall:` label. `/cc`, `/shrug` or a label like `bug` may
    be meant for people or other tools (and whether a word names a role here is known only
    after reading the repository, which a reader's comment must not make Rolecall do), and
    a review is feedback on a pull request, not a request for work: those stay unanswered.
    """
    if request.trigger == "review":
        return False
    if request.trigger == "label":
        return (request.label or "").strip().casefold().startswith(LABEL_PREFIX)
    return (request.command or request.kind) in RESERVED_COMMANDS


def screen_sender(
    sender: Account, bot_login: str | None, allowlist: Collection[str] = ()
) -> Ignore | None:
    """The Ignore for a sender Rolecall must not act for, or None to carry on.

    Its own events first (a loop would be the worst outcome), then any non-person that is
    not an allow-listed bot.
    """
    if is_self(sender, bot_login):
        return Ignore(f"sent by Rolecall itself (@{sender.login})")
    if not is_user_sender(sender) and not is_allowlisted_bot(sender, allowlist):
        return Ignore(f"sender @{sender.login} is a {sender.type}, not a person")
    return None


class Timestamped(Protocol):
    """Anything with GitHub's creation and last-edit times (comments, reviews)."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def updated_at(self) -> datetime | None: ...


TimestampedT = TypeVar("TimestampedT", bound=Timestamped)


def filter_to_trigger_time(
    items: Iterable[TimestampedT], trigger_at: datetime
) -> list[TimestampedT]:
    """The items as they stood at trigger time: created before it, not edited since.

    Someone who cannot start work can still comment, or edit their comment, after a
    maintainer typed `/implement`; that text must not reach the model as part of what
    the maintainer asked for (invariant 3). An edited comment is dropped rather than
    shown in a version the maintainer never saw. Naive datetimes are taken as UTC.
    """
    cutoff = _utc(trigger_at)
    kept: list[TimestampedT] = []
    for item in items:
        if _utc(item.created_at) >= cutoff:
            continue
        if item.updated_at is not None and _utc(item.updated_at) >= cutoff:
            continue
        kept.append(item)
    return kept


def _bare(login: str) -> str:
    login = login.strip().casefold()
    return login.removesuffix("[bot]")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
