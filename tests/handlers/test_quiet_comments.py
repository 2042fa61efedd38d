"""The quick decision about a comment agrees with reading it in full, on every payload.

`handlers.issues.quiet_comment` decides a new comment without building the event models
when it can be sure it asks for nothing; otherwise it says None and the comment is read
in full (`comment_read_in_full`). Here both run on the real payloads, on every field
the model reads set to every kind of wrong or edge value, on bodies built to sit right
at the edge of what counts as a command or a mention, and on many random bodies: the
quick answer, when there is one, must be exactly the full one (never a decision where
the full reading refuses the payload).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from handler_payloads import PAYLOADS

from handlers.decisions import Decision
from handlers.dispatch import dispatch
from handlers.events import EventError, IssueCommentEvent, PullRequestReviewEvent
from handlers.issues import comment_read_in_full, quiet_comment
from handlers.router import Context
from handlers.shapes import shape_of
from handlers.triggers import NO_VISIBLE_COMMAND

REPO_PAYLOADS = Path(__file__).parents[1] / "github-payloads"
COMMENT = "issue_comment.created.with-installation.json"
MISSING = object()

WRONG_VALUES: list[Any] = [
    MISSING,
    None,
    True,
    False,
    0,
    -1,
    2**63 - 1,
    1.5,
    1.0,
    "",
    "123",
    "x" * 1_000,
    "a\x00b",
    [],
    {},
    {"login": "x"},
]
TIMES: list[Any] = [
    "2019-05-15T15:20:21Z",
    "2019-05-15T15:20:21",
    "2019-05-15T15:20:21+01:00",
    "2019-05-15T15:20:21.5Z",
    "2019-05-15 15:20:21Z",
    "2019-05-15t15:20:21z",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2024-02-29T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2019-04-31T00:00:00Z",
    "2019-13-01T00:00:00Z",
    "2019-05-15T24:00:00Z",
    "2019-05-15T23:59:60Z",
    "２０19-05-15T15:20:21Z",
    1557933621,
]
BODIES: list[Any] = [
    None,
    "",
    "Thanks, looks good.",
    "/implement",
    " /implement",
    "   /fix",
    "    /implement",
    "\t/implement",
    " \t/review",
    "text\n/implement",
    "text\r/implement",
    "text\r\n/implement now",
    "see https://example.com/a/b",
    "a / b",
    "/",
    "//",
    "/ implement",
    "`/implement`",
    "> /implement",
    "- /implement",
    "1. /implement",
    "```\n/implement\n```",
    "<!--\n/implement\n-->",
    "\u00a0/implement",
    "\u200b/implement",
    "x\u2028/implement",
    "x\x0b/implement",
    "x\x0c/implement",
    "@rolecall do it",
    "@RoleCall please",
    "@ROLECALL /review",
    "hey @rolecall",
    "\t@rolecall fix",
    "x\t@rolecall",
    "email@rolecall.dev",
    "@rolecall-bot",
    "@rolecalls",
    "@role\u200bcall",
    "@roleca\u212al",
    "@rolecall\u200b",
    "`@rolecall`",
    "> @rolecall",
    "@someone else",
    "ping @octocat about it",
    "＠rolecall",
]
RANDOM_PIECES = [
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "/",
    "@",
    "rolecall",
    "ROLECALL",
    "implement",
    "fix",
    "`",
    "```",
    ">",
    "- ",
    "<!--",
    "-->",
    "x",
    ".",
    "\u200b",
    "\u00a0",
    "[bot]",
]
SENDERS: list[dict[str, Any]] = [
    {"type": "User"},
    {"type": "Bot", "login": "dependabot[bot]"},
    {"type": "Bot", "login": "rolecall[bot]"},
    {"type": "User", "login": "ROLECALL"},
    {"type": "Organization"},
    {"type": "Mannequin"},
]
BOT_LOGINS = [None, "rolecall[bot]", "rolecall"]
ALLOWED = [(), ("dependabot[bot]",)]


def real_payloads() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every real payload, from the shared set and this repository's copy."""
    for folder in (PAYLOADS, REPO_PAYLOADS):
        for path in sorted(folder.glob("*.json")):
            yield f"{folder.name}/{path.name}", json.loads(path.read_text())


def full(ctx: Context) -> Decision | str:
    """The decision read in full, or the refusal's text when the payload is not usable."""
    try:
        return comment_read_in_full(ctx)
    except EventError as exc:
        return f"EventError: {exc}"


def agree(
    payload: dict[str, Any], bot_login: str | None = None, allowed: tuple[str, ...] = ()
) -> Decision | None:
    """The quick decision, after checking that it is the full one; None if it had none."""
    ctx = Context(
        event="issue_comment",
        action="created",
        payload=payload,
        bot_login=bot_login,
        allowed_bots=frozenset(allowed),
    )
    quick = quiet_comment(ctx)
    if quick is not None:
        assert quick == full(ctx), (payload.get("comment"), bot_login, allowed)
    return quick


OPTIONAL = {
    ("action",),
    ("installation",),
    ("issue", "body"),
    ("issue", "updated_at"),
    ("issue", "pull_request"),
    ("comment", "body"),
    ("comment", "updated_at"),
}


def model_paths(model: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every field path the model reads (objects included), from its own declaration."""
    for name, field in model.model_fields.items():
        path = (*prefix, name)
        yield path
        annotation = field.annotation
        for inner in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(inner, type) and hasattr(inner, "model_fields"):
                yield from model_paths(inner, path)


def with_value(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    parent: Any = changed
    for key in path[:-1]:
        parent = parent.get(key) if isinstance(parent, dict) else None
    if isinstance(parent, dict):
        if value is MISSING:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
    return changed


def comment_payload(**comment: Any) -> dict[str, Any]:
    payload = json.loads((PAYLOADS / COMMENT).read_text())
    payload["comment"].update(comment)
    return payload


def test_the_real_comment_is_decided_quickly_and_as_in_full() -> None:
    payload = comment_payload()
    for bot_login in BOT_LOGINS:
        assert agree(payload, bot_login) == NO_VISIBLE_COMMAND
    # And through the one entry point the webhook uses.
    assert dispatch("issue_comment", payload, bot_login="rolecall[bot]") == NO_VISIBLE_COMMAND


def test_every_real_payload_agrees_whatever_it_is() -> None:
    """Payloads of other events sent as a comment: refused in full, so never quick."""
    for _name, payload in real_payloads():
        for bot_login in BOT_LOGINS:
            agree(payload, bot_login)


@pytest.mark.parametrize(
    "path", list(model_paths(IssueCommentEvent)), ids=lambda path: ".".join(path)
)
def test_every_field_set_to_anything_agrees(path: tuple[str, ...]) -> None:
    base = comment_payload()
    quick: list[Any] = []
    for value in [*WRONG_VALUES, *TIMES]:
        changed = with_value(base, path, value)
        for bot_login in BOT_LOGINS:
            if agree(changed, bot_login) is not None:
                quick.append(value)
    # Only what the model takes as it is may be decided quickly: never a missing field
    # (unless the model has a default for it), never an object where it wants another.
    assert all(value is not MISSING or path in OPTIONAL for value in quick), quick


def test_bodies_at_the_edge_of_a_command_or_mention_agree() -> None:
    quick = 0
    for body in BODIES:
        for sender in SENDERS:
            payload = comment_payload(body=body)
            payload["sender"].update(sender)
            for on_pull_request in (False, True):
                if on_pull_request:
                    payload["issue"]["pull_request"] = None  # present, however odd
                for bot_login in BOT_LOGINS:
                    for allowed in ALLOWED:
                        quick += agree(payload, bot_login, allowed) is not None
    assert quick > len(BODIES)


def test_random_bodies_agree() -> None:
    chance = random.Random(12)  # seeded: the same bodies every run
    quick = 0
    for _ in range(3_000):
        body = "".join(chance.choices(RANDOM_PIECES, k=chance.randint(0, 12)))
        quick += agree(comment_payload(body=body), chance.choice(BOT_LOGINS)) is not None
    assert quick > 100


def test_a_time_the_model_might_refuse_is_never_taken_as_fitting() -> None:
    fits = shape_of(IssueCommentEvent)
    for time in TIMES:
        payload = comment_payload(created_at=time)
        if fits(payload):
            IssueCommentEvent.model_validate(payload)  # would raise if the check were wrong


def test_every_event_model_has_a_shape_check_and_it_never_accepts_a_refused_payload() -> None:
    check = shape_of(PullRequestReviewEvent)
    for _name, payload in real_payloads():
        if check(payload):
            PullRequestReviewEvent.model_validate(payload)
