"""Real GitHub payloads (../shared/github-payloads), and variants of them for tests."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

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
