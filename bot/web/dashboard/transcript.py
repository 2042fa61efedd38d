"""A job's transcript (JSON lines, agents.executor) as the entries its page shows.

The agent wrote most of it, so every title and text is redacted here again (the worker
redacted each line as it was written; this also catches what only this process knows)
and capped; the page escapes it. Only whole lines are read: a line the executor is still
writing waits for the next read, which starts at the byte offset the last one ended.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# One entry's text beyond this many characters is cut (the file keeps all of it).
MAX_TEXT = 6000
# A page shows at most this much of a transcript, the end of a longer one (redacting
# costs about a second per MiB).
MAX_PAGE_BYTES = 1024 * 1024
# One read of a running job's transcript takes at most this much.
MAX_READ_BYTES = 512 * 1024

Redact = Callable[[str], str]


@dataclass(frozen=True)
class Entry:
    """One thing that happened in the run, as the page shows it."""

    kind: str  # start, assistant, tool_call, tool_result, error, note, final
    title: str
    text: str = ""
    turn: int | None = None
    detail: str = ""  # long text the page shows folded (the brief)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    """The entries of the lines read, and the offset just past the last whole line."""

    entries: list[tuple[int, Entry]]  # (offset after the entry's line, entry)
    end: int


def transcript_file(data_dir: Path, recorded: str | None) -> Path | None:
    """The job's transcript, if the ledger names one inside the data dir's transcripts."""
    if not recorded:
        return None
    root = (data_dir / "transcripts").resolve()
    path = Path(recorded).resolve()
    return path if path.parent == root else None


def page_start(path: Path | None) -> int:
    """Where a page begins reading: 0, or for a longer transcript the first whole line of
    its last `MAX_PAGE_BYTES` (the bytes before it are not shown)."""
    try:
        size = path.stat().st_size if path is not None else 0
    except FileNotFoundError:
        return 0
    if path is None or size <= MAX_PAGE_BYTES:
        return 0
    with path.open("rb") as transcript:
        transcript.seek(size - MAX_PAGE_BYTES)
        return size - MAX_PAGE_BYTES + len(transcript.readline())


def read_entries(
    path: Path | None, offset: int, redact: Redact, *, limit: int = MAX_READ_BYTES
) -> Chunk:
    """The entries of the whole lines from `offset` on: about `limit` bytes of them, or
    the one line there, however long."""
    if path is None:
        return Chunk([], offset)
    try:
        with path.open("rb") as transcript:
            transcript.seek(offset)
            data = transcript.read(limit)
            while data and b"\n" not in data:  # one line longer than the limit
                more = transcript.read(limit)
                if not more:
                    break
                data += more
    except FileNotFoundError:
        return Chunk([], offset)
    whole = data[: data.rfind(b"\n") + 1]
    entries: list[tuple[int, Entry]] = []
    position = offset
    for raw in whole.splitlines(keepends=True):
        position += len(raw)
        for entry in entries_of(raw.decode("utf-8", "replace"), redact):
            entries.append((position, entry))
    return Chunk(entries, offset + len(whole))


def entries_of(line: str, redact: Redact) -> list[Entry]:
    """What one transcript line shows: nothing for bookkeeping, one or more entries else."""
    try:
        record = json.loads(line)
    except ValueError:
        return [Entry("note", "Unreadable line")] if line.strip() else []
    if not isinstance(record, dict):
        return []
    made = _ENTRIES.get(str(record.get("event")), _other)(record)
    return [
        Entry(
            entry.kind,
            _cap(redact(entry.title), 200),
            _cap(redact(entry.text)),
            entry.turn,
            _cap(redact(entry.detail), 4 * MAX_TEXT),
        )
        for entry in made
    ]


# -- one function per event -----------------------------------------------------------


def _start(record: dict[str, Any]) -> list[Entry]:
    tools = ", ".join(str(tool) for tool in record.get("tools") or [])
    text = f"Model {record.get('model')}; tools: {tools or 'none'}"
    return [Entry("start", "Run started", text, detail=str(record.get("brief", "")))]


def _assistant(record: dict[str, Any]) -> list[Entry]:
    blocks = record.get("content") or []
    said = "\n\n".join(
        str(block.get("text", ""))
        for block in blocks
        if isinstance(block, dict) and block.get("type") == "text"
    )
    return [Entry("assistant", "Agent", said, _turn(record))] if said.strip() else []


def _tool_call(record: dict[str, Any]) -> list[Entry]:
    name = str(record.get("name", "tool"))
    given = record.get("input")
    if isinstance(given, dict) and set(given) <= {"command", "description", "timeout"}:
        text = str(given.get("command", ""))  # a shell command reads best as itself
    else:
        text = json.dumps(given, ensure_ascii=False, indent=1)
    return [Entry("tool_call", name, text, _turn(record))]


def _tool_result(record: dict[str, Any]) -> list[Entry]:
    content = record.get("content")
    if isinstance(content, list):
        content = "\n".join(
            str(block.get("text", "")) if isinstance(block, dict) else str(block)
            for block in content
        )
    failed = bool(record.get("is_error"))
    kind, title = ("error", "Error") if failed else ("tool_result", "Result")
    return [Entry(kind, title, str(content or "(no output)"), _turn(record))]


def _retry(record: dict[str, Any]) -> list[Entry]:
    text = (
        f"{record.get('reason', '')}: {record.get('error', '')}; again in {record.get('seconds')} s"
    )
    return [Entry("note", "Model retry", text, _turn(record))]


def _tools(record: dict[str, Any]) -> list[Entry]:
    warnings = "\n".join(str(warning) for warning in record.get("warnings") or [])
    return [Entry("note", "Tools", warnings)]


def _final(record: dict[str, Any]) -> list[Entry]:
    text = f"{record.get('stop')}: {record.get('detail')}"
    if record.get("summary"):
        text += f"\n\n{record['summary']}"
    return [Entry("final", "Run ended", text, record.get("turns"))]


def _quiet(record: dict[str, Any]) -> list[Entry]:
    return []


def _other(record: dict[str, Any]) -> list[Entry]:
    rest = {key: value for key, value in record.items() if key not in ("event", "ts")}
    text = json.dumps(rest, ensure_ascii=False, default=str)
    return [Entry("note", str(record.get("event", "event")), text, _turn(record))]


_ENTRIES: dict[str, Callable[[dict[str, Any]], list[Entry]]] = {
    "start": _start,
    "request": _quiet,
    "assistant": _assistant,
    "tool_call": _tool_call,
    "tool_result": _tool_result,
    "model_retry": _retry,
    "tools": _tools,
    "final": _final,
}


def _turn(record: dict[str, Any]) -> int | None:
    turn = record.get("turn")
    return turn if isinstance(turn, int) and not isinstance(turn, bool) else None


def _cap(text: str, limit: int = MAX_TEXT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit:,} more characters)"
