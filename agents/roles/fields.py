"""Reading a role file's fields leniently: each odd value becomes a warning, not an error.

Role files are written for other tools (Claude Code, Copilot) and by hand, so a field
of the wrong shape is ignored with a warning the role's author can read, and the rest
of the role still loads (`agents.roles.loader`).
"""

from __future__ import annotations

import re

from agents.roles.role import Handoff
from agents.roles.tools import shape

# Extended thinking's budget, in tokens: the API's minimum, and the largest output any
# Claude model can produce (the budget is part of the reply's max_tokens).
MIN_THINKING_BUDGET = 1024
MAX_THINKING_BUDGET = 128_000
_MODEL_ALIASES = frozenset({"sonnet", "opus", "haiku", "inherit"})
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def normalize_model(value: object) -> tuple[str | None, tuple[str, ...]]:
    """A role's `model` field -> (raw spec for `agents.model`, warnings).

    Copilot files name models for its picker ("Claude Haiku 4.5 (copilot)") and may list
    fallbacks; we take the first and turn Claude display names into API ids. Other
    vendors' names are kept (a `provider,model` setup may serve them) but warned about.
    """
    if isinstance(value, list | tuple):
        if not value:
            return None, ()
        value = value[0]
    if value is None:
        return None, ()
    if not isinstance(value, str | int | float):
        return None, (f"model must be a name or a list of names, not {shape(value)}; ignored",)
    raw = str(value).strip()
    if not raw:
        return None, ()
    if "," in raw:
        provider, _, model_id = raw.partition(",")
        return f"{provider.strip()},{model_id.strip()}", ()
    base = re.sub(r"\s*\([^()]*\)$", "", raw).strip() or raw
    if base.lower() in _MODEL_ALIASES:
        return base.lower(), ()
    lowered = base.lower()
    if lowered.startswith("claude"):
        # "Claude Sonnet 4.5" and "claude-sonnet-4.5" both mean the API id claude-sonnet-4-5.
        return re.sub(r"[\s.]+", "-", lowered), ()
    return base, (
        f"model {raw!r} is not an Anthropic model; write 'provider,model' if another "
        "provider serves it",
    )


def first_heading_and_paragraph(text: str) -> tuple[str | None, str | None]:
    heading: str | None = None
    paragraph: list[str] = []
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            if paragraph:
                break
            continue
        if in_fence:
            continue
        match = _HEADING.match(line)
        if match:
            if paragraph:
                break
            heading = heading or match.group(1).strip()
        elif line.strip():
            paragraph.append(line.strip())
        elif paragraph:
            break
    return heading, " ".join(paragraph)[:300] or None


def read_description(value: object, warnings: list[str]) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        warnings.append("no 'description' in the frontmatter")
        return ""
    if not isinstance(value, str):
        text = optional_str(value)
        if text is None:
            warnings.append(f"'description' must be text, not {shape(value)}; ignored")
            return ""
        value = text
    # Generated Claude Code agents write their multi-line descriptions on one line with
    # literal `\n` escapes; YAML keeps those as backslash-n in plain scalars.
    return value.replace("\\n", "\n").strip()


def read_max_turns(value: object, warnings: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    warnings.append(f"maxTurns {shape(value)} is not a positive whole number; ignored")
    return None


def read_thinking(value: object, warnings: list[str]) -> int | None:
    """`thinking: 8000`: extended thinking with that budget in tokens; absent means none."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and MIN_THINKING_BUDGET <= value <= MAX_THINKING_BUDGET
    ):
        return value
    warnings.append(
        f"thinking {shape(value)} is not a budget in tokens from {MIN_THINKING_BUDGET} to "
        f"{MAX_THINKING_BUDGET} (e.g. `thinking: 8000`); ignored"
    )
    return None


def optional_str(value: object) -> str | None:
    """A scalar setting as text; lists and mappings are not text (and may be huge)."""
    if value is None or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


def read_handoffs(value: object, warnings: list[str]) -> tuple[Handoff, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        warnings.append("handoffs must be a list; ignored")
        return ()
    handoffs = []
    for item in value:
        if isinstance(item, dict) and optional_str(item.get("agent")):
            handoffs.append(
                Handoff(
                    agent=str(item["agent"]).strip(),
                    label=optional_str(item.get("label")) or "",
                    prompt=optional_str(item.get("prompt")) or "",
                    send=item.get("send") is True,
                )
            )
        else:
            warnings.append(f"handoff {shape(item)} has no 'agent'; ignored")
    return tuple(handoffs)
