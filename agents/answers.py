"""Reading the structured part of an agent's final message.

The fix and review briefs (`agents.review_brief`) ask the model to end with a fenced JSON
block: one answer per review thread, or one finding per line. Models mostly comply,
sometimes not quite, so each parser takes the last block that reads as the expected
shape, then falls back to the Markdown a model tends to write instead (`### T1 — changed`
headings, `path:line — finding` lines), and finally to "no structured answer", which the
caller handles (a generic reply, findings left in the summary). Nothing here raises on
what a model wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^[ ]{0,3}\1[ \t]*$", re.M | re.S)
_REF = re.compile(r"^(?:thread[\s#:-]*)?t?(\d+)$", re.I)
_NEGATIVE = re.compile(
    r"\b(?:unchanged|not changed|no change|nothing changed|left (?:it )?as is|"
    r"won'?t (?:change|fix)|declined?|not (?:fixed|addressed)|didn'?t change|did not change)\b",
    re.I,
)
_POSITIVE = re.compile(r"\b(?:changed|fixed|done|addressed|updated|applied|resolved)\b", re.I)
_THREAD_HEADING = re.compile(
    r"^[ ]{0,3}(?:#{1,6}[ \t]*|\*\*|[-*][ \t]+\*\*)?[ \t]*(?:thread[ \t]+)?(T\d+)\b(.*)$",
    re.M | re.I,
)
_FINDING_LINE = re.compile(
    r"^[ \t]*(?:[-*][ \t]+|\d+[.)][ \t]+)?`?(?P<path>(?=[\w@+-]*[./])[\w./@+-]+):(?P<line>\d+)`?"
    r"[ \t]*(?:—|–|--|-|:)[ \t]*(?P<body>\S.*)$",
    re.M,
)
MAX_REPLY_CHARS = 4000


@dataclass(frozen=True)
class ThreadAnswer:
    """The agent's answer for one thread; `changed` is None when it did not say."""

    ref: str
    changed: bool | None
    reply: str


@dataclass(frozen=True)
class Finding:
    """One review finding the agent anchored to `path`:`line` (None: no line given)."""

    path: str
    line: int | None
    body: str


def parse_thread_answers(message: str, refs: Iterable[str]) -> tuple[dict[str, ThreadAnswer], str]:
    """The per-thread answers in `message` for the known `refs`, and the rest of it.

    The rest (the message without the block or sections) is the agent's summary.
    Answers for unknown refs are dropped; a thread without an answer is simply absent.
    """
    known = {ref.upper() for ref in refs}
    for match in reversed(list(_FENCE.finditer(message))):
        answers = _answers_from_json(match.group(2), known)
        if answers is not None:
            return answers, _without(message, match.start(), match.end())
    return _answers_from_sections(message, known)


def parse_findings(message: str) -> tuple[list[Finding], str]:
    """The findings in `message`, and the rest of it (the review's summary).

    Prefers the last fenced block that is a JSON list of findings (an empty list counts:
    "nothing found"); otherwise lines of the form `path:line — what is wrong`.
    """
    for match in reversed(list(_FENCE.finditer(message))):
        findings = _findings_from_json(match.group(2))
        if findings is not None:
            return findings, _without(message, match.start(), match.end())
    findings = []
    kept: list[str] = []
    for line in message.splitlines():
        found = _FINDING_LINE.match(line)
        if found:
            path, body = found.group("path").lstrip("/"), found.group("body").strip()
            findings.append(Finding(path, int(found.group("line")), body))
        else:
            kept.append(line)
    return findings, "\n".join(kept).strip() if findings else message.strip()


# --- thread answers -------------------------------------------------------------------------


def _answers_from_json(text: str, known: set[str]) -> dict[str, ThreadAnswer] | None:
    data = _load_json(text)
    if isinstance(data, dict):
        data = data.get("threads", data.get("answers"))
    if not isinstance(data, list):
        return None
    answers: dict[str, ThreadAnswer] = {}
    for entry in data:
        if not isinstance(entry, dict):
            continue
        ref = _ref(entry.get("thread", entry.get("ref", entry.get("id"))))
        reply = _first_str(entry, "reply", "body", "answer", "message", "comment")
        if ref is None or ref not in known or ref in answers:
            continue
        outcome = _first_str(entry, "outcome", "status", "result")
        answers[ref] = ThreadAnswer(ref, _outcome(outcome) if outcome else None, _clip(reply))
    return answers or None


def _answers_from_sections(message: str, known: set[str]) -> tuple[dict[str, ThreadAnswer], str]:
    """`### T1 — changed` (or `**T1**`, `T1:`) headings, each followed by its answer."""
    headings = [m for m in _THREAD_HEADING.finditer(message) if m.group(1).upper() in known]
    if not headings:
        return {}, message.strip()
    answers: dict[str, ThreadAnswer] = {}
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(message)
        ref = heading.group(1).upper()
        title = heading.group(2).strip(" \t*:—–-")
        text = message[heading.end() : end].strip()
        reply = text or title
        if ref not in answers:
            answers[ref] = ThreadAnswer(ref, _outcome(title or text), _clip(reply))
    return answers, message[: headings[0].start()].strip()


def _outcome(text: str) -> bool | None:
    if _NEGATIVE.search(text):
        return False
    if _POSITIVE.search(text):
        return True
    return None


def _ref(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return f"T{value}"
    if not isinstance(value, str):
        return None
    found = _REF.match(value.strip())
    return f"T{int(found.group(1))}" if found else None


# --- findings -------------------------------------------------------------------------------


def _findings_from_json(text: str) -> list[Finding] | None:
    data = _load_json(text)
    if isinstance(data, dict):
        data = data.get("findings", data.get("comments"))
    if not isinstance(data, list):
        return None
    findings: list[Finding] = []
    for entry in data:
        if not isinstance(entry, dict):
            return None  # a list of something else is not our block
        path = entry.get("path", entry.get("file"))
        body = _first_str(entry, "body", "comment", "message", "finding")
        if not isinstance(path, str) or not path.strip() or not body.strip():
            continue
        findings.append(Finding(path.strip().lstrip("/"), _line(entry.get("line")), _clip(body)))
    return findings


def _line(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None


# --- shared ---------------------------------------------------------------------------------


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _first_str(entry: dict[str, Any], *names: str) -> str:
    for name in names:
        value = entry.get(name)
        if isinstance(value, str):
            return value
    return ""


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_REPLY_CHARS else text[: MAX_REPLY_CHARS - 1] + "…"


def _without(message: str, start: int, end: int) -> str:
    return (message[:start] + message[end:]).strip()
