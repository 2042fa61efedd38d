"""Role files, configs and observations shared by the roles end-to-end tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from standins.scenario import REPO
from tests.e2e.conftest import Rolecall, wait_for

BACKEND_MARK = "BACKEND-ROLE-INSTRUCTIONS-5c1e"
BACKEND_ROLE = f"""---
name: backend
description: Backend specialist. Fixes server-side code and proves it with the tests.
tools: Read, Edit, Bash
---
{BACKEND_MARK}: you are the backend specialist. Run the tests, fix the code, run them again.
"""
LABEL_CONFIG = "labels:\n  backend: backend\n"


def put_on_main(rolecall: Rolecall, files: dict[str, str | bytes | None]) -> None:
    """alice commits `files` to the default branch (where roles and config are read)."""
    rolecall.github.push_commit(REPO, "alice", branch="main", files=files, message="Set up roles")


def system_text(request: dict[str, Any]) -> str:
    system = request.get("system", "")
    if isinstance(system, str):
        return system
    return "".join(block.get("text", "") for block in system)


def tool_names(request: dict[str, Any]) -> list[str]:
    return [tool["name"] for tool in request.get("tools", [])]


def brief_text(request: dict[str, Any]) -> str:
    first = request["messages"][0]["content"]
    return first if isinstance(first, str) else " ".join(b.get("text", "") for b in first)


def tool_results(request: dict[str, Any]) -> list[tuple[str, bool]]:
    """(text, is_error) of every tool_result the model was sent, in order."""
    found = []
    for message in request["messages"]:
        if message["role"] != "user" or isinstance(message["content"], str):
            continue
        for block in message["content"]:
            if block.get("type") == "tool_result":
                content = block.get("content")
                if isinstance(content, list):
                    content = "".join(part.get("text", "") for part in content)
                found.append((str(content), bool(block.get("is_error"))))
    return found


def bot_comment_containing(rolecall: Rolecall, number: int, text: str) -> dict[str, Any]:
    """Wait for a comment by Rolecall on `number` that contains `text`."""

    def found() -> dict[str, Any] | None:
        return next((c for c in rolecall.bot_comments(number) if text in c["body"]), None)

    return wait_for(
        found, f"a Rolecall comment on #{number} saying {text!r}; log:\n{rolecall.log()}"
    )


def reactions_on(rolecall: Rolecall, comment_id: int) -> list[tuple[str, str]]:
    found = rolecall.github.reactions(REPO, comment=comment_id)
    return [(r["content"], r["user"]["login"]) for r in found]


def processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains `marker` (sandboxed ones included)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if marker.encode() in cmdline:
            pids.append(int(entry.name))
    return pids
