"""Real GitHub payloads (../shared/github-payloads), and variants of them for tests."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from handlers.decisions import StartJob

PAYLOADS = Path(__file__).parents[2].parent / "shared" / "github-payloads"


@cache
def _load(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return payload


def payload(name: str, **changes: Any) -> dict[str, Any]:
    """A fresh copy of a real payload with `changes` applied.

    Keys are dotted paths ("comment.body"); the value `DELETE` removes the field.
    """
    data = copy.deepcopy(_load(name))
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = data
        for key in parents:
            target = target[key]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return data


DELETE = object()

PR_LINKS = {
    "url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/2",
    "html_url": "https://github.com/Codertocat/Hello-World/pull/2",
    "diff_url": "https://github.com/Codertocat/Hello-World/pull/2.diff",
    "patch_url": "https://github.com/Codertocat/Hello-World/pull/2.patch",
    "merged_at": None,
}

# When Codertocat wrote the comment in `issue_comment.created.with-installation`.
COMMENTED_AT = datetime(2019, 5, 15, 15, 20, 21, tzinfo=UTC)


def comment_job(kind: str, role: str, notes: str = "", **changes: Any) -> StartJob:
    """The job Codertocat's comment on issue #1 of Hello-World starts, with `changes` applied.

    Review and command tests expect the same facts from that payload and differ only in
    the kind, the role and a field or two, so the facts are written down once.
    """
    job = StartJob(
        kind=kind,
        role=role,
        repo_full_name="Codertocat/Hello-World",
        repo_id=186853002,
        installation_id=1,
        issue_number=1,
        is_pull_request=False,
        comment_id=492700400,
        sender_login="Codertocat",
        notes=notes,
        trigger_at=COMMENTED_AT,
        trigger="comment",
        issue_title="Spelling error in the README file",
        issue_body="It looks like you accidently spelled 'commit' with two 't's.",
    )
    return replace(job, **changes) if changes else job
