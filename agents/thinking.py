"""How a model is asked to think: a fixed budget, or adaptive thinking.

Claude models before 4.6 think only against a budget (`thinking.type: "enabled"` with
`budget_tokens`). From 4.6 on, adaptive thinking (`thinking.type: "adaptive"`: the model
decides how much to think) is the recommended mode, and from 4.7 on (and every Claude 5
model) it is the only one: a budget is refused with a 400. So a role's thinking budget
turns thinking on for every model, and is the budget itself only where one exists.
Models Rolecall does not recognise (other providers' ids) get the budgeted form.
"""

from __future__ import annotations

import re
from typing import Any

_VERSIONED = re.compile(r"claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d+))?(?:-\d{8})?$")
_ADAPTIVE_FAMILIES = re.compile(r"claude-(?:mythos|fable)(?:-|$)")
ADAPTIVE_SINCE = (4, 6)


def adaptive(model_id: str) -> bool:
    """Whether the model thinks adaptively (Claude 4.6 and later)."""
    name = model_id.strip().lower()
    if _ADAPTIVE_FAMILIES.match(name):
        return True
    found = _VERSIONED.match(name)
    if found is None:
        return False
    major, minor = int(found.group(1)), int(found.group(2) or 0)
    if minor > 9:  # a dated id without a minor version, e.g. claude-opus-4-20250514
        minor = 0
    return (major, minor) >= ADAPTIVE_SINCE


def thinking_param(model_id: str, budget: int) -> dict[str, Any]:
    """The request's `thinking` for a role that asked for a budget of `budget` tokens."""
    if adaptive(model_id):
        return {"type": "adaptive"}
    return {"type": "enabled", "budget_tokens": budget}
