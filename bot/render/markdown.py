"""Markdown pieces Rolecall's own messages are built from: quotes, fences, table cells."""

from __future__ import annotations

import re


def quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def fence_for(text: str) -> str:
    """A backtick fence longer than any run of backticks in `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def table_cell(text: str) -> str:
    flat = " ".join(text.split())
    flat = flat if len(flat) <= 120 else flat[:117] + "…"
    return flat.replace("|", "\\|").replace("`", "'")
