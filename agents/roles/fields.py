"""Reading a role file's fields leniently: each odd value becomes a warning, not an error.

Role files are written for other tools (Claude Code, Copilot) and by hand, so a field
of the wrong shape is ignored with a warning the role's author can read, and the rest
of the role still loads (`agents.roles.loader`).
"""

from __future__ import annotations

import re

from agents.model_names import ModelName, read_model_name, without_picker_note
from agents.roles.role import Handoff
from agents.roles.tools import shape

# Extended thinking's budget, in tokens: the API's minimum, and the largest output any
# Claude model can produce (the budget is part of the reply's max_tokens).
MIN_THINKING_BUDGET = 1024
MAX_THINKING_BUDGET = 128_000
# More model names than this in one list are not read (Copilot lists two or three).
_MAX_MODELS = 20
_ON_THE_DEFAULT = "the role runs on the default model (ROLECALL_MODEL)"
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def normalize_model(value: object) -> tuple[str | None, tuple[str, ...]]:
    """A role's `model` field -> (spec for `agents.model_ref.resolve_model`, warnings).

    Copilot tries a list of models in order and takes the first it can use, so we take
    the first Rolecall can serve: `[GPT-5.3-Codex, Claude Sonnet 4.6 (copilot)]` runs on
    claude-sonnet-4-6. Claude picker names become ids from Rolecall's model table only
    (`agents.model_names`); one missing from it is a warning naming the closest known id,
    and the role runs on the next model listed or the default, never on an invented id.
    When nothing listed can be served, the first other-vendor name is kept as written
    (picker note dropped) so that resolving it says whose model it is and what it needs.
    """
    entries = list(value[:_MAX_MODELS]) if isinstance(value, list | tuple) else [value]
    warnings: list[str] = []
    unknown: list[ModelName] = []
    unservable: str | None = None
    chosen: str | None = None
    for entry in entries:
        if entry is None:
            continue
        if not isinstance(entry, str | int | float):
            warnings.append(f"model must be a name or a list of names, not {shape(entry)}; ignored")
            continue
        written = str(entry).strip()
        if not written:
            continue
        name = read_model_name(written)
        if name.spec is not None:
            chosen = name.spec
            break
        if name.closest is not None:
            unknown.append(name)
        elif unservable is None:
            unservable = without_picker_note(written)
    instead = f"the role runs on {chosen}" if chosen else _ON_THE_DEFAULT
    for name in unknown:
        warnings.append(
            f"model {name.written!r} is not in Rolecall's model table (the closest model it "
            f"knows is {name.closest}); {instead}"
        )
    if chosen is None and not unknown:
        chosen = unservable
    return chosen, tuple(dict.fromkeys(warnings))


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
