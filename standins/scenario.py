"""The offline world that `rolecall demo` and the end-to-end tests share.

A GitHub stand-in holding a small repository with a failing test, people with known
permissions (alice can write, mallory can only read), a model stand-in, and a scripted
agent that fixes the bug the way a careful engineer would: run the tests, read the
code, edit it, run the tests again, then summarise. The model is scripted; everything
else (HTTP, git, the sandbox) is real.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from standins.github import GitHubStandIn
from standins.model import ModelStandIn, TurnLike, text, tool_use

REPO = "octo/calc"
MODEL_API_KEY = "sk-ant-standin-0123456789abcdef"

SAMPLE_FILES: dict[str, str | bytes] = {
    "README.md": "# calc\n\nA tiny calculator. Run the tests with `python3 -m unittest`.\n",
    "AGENTS.md": "Run `python3 -m unittest -q` before you finish.\n",
    "calc.py": 'def add(a, b):\n    """Return the sum of a and b."""\n    return a - b\n',
    "test_calc.py": (
        "import unittest\n\nfrom calc import add\n\n\n"
        "class AddTest(unittest.TestCase):\n"
        "    def test_adds(self):\n"
        "        self.assertEqual(add(2, 3), 5)\n\n\n"
        'if __name__ == "__main__":\n'
        "    unittest.main()\n"
    ),
}
ISSUE_TITLE = "add() subtracts instead of adding"
ISSUE_BODY = "`add(2, 3)` returns -1 instead of 5, and `test_calc.py` fails."
FIX = {"old_string": "return a - b", "new_string": "return a + b"}
FIX_SUMMARY = (
    "Fixed `add` in `calc.py`: it subtracted its arguments instead of adding them.\n\n"
    "Verified with `python3 -m unittest -q`: the failing test now passes."
)


class ScriptedAgent:
    """Answers each model request with the next step of a fixed script.

    The step is chosen by how many assistant turns the request already holds, so the
    agent follows the conversation the worker really sends (tool results included)
    rather than a private counter. `seen` keeps every request for assertions.
    """

    def __init__(self, steps: Sequence[TurnLike], *, after: TurnLike | None = None) -> None:
        self.steps = list(steps)
        self.after = after
        self.seen: list[dict[str, Any]] = []

    def __call__(self, request: dict[str, Any]) -> TurnLike:
        self.seen.append(request)
        done = sum(1 for message in request.get("messages", []) if message["role"] == "assistant")
        if done < len(self.steps):
            return self.steps[done]
        return self.after if self.after is not None else text("(the script has ended)")


def fixing_agent() -> ScriptedAgent:
    """The agent of the demo: finds and fixes the bug in calc.py, verifying with the tests."""
    return ScriptedAgent(
        [
            tool_use("Bash", {"command": "python3 -m unittest -q"}),
            tool_use("Read", {"file_path": "calc.py"}),
            tool_use("Edit", {"file_path": "calc.py", **FIX}),
            tool_use("Bash", {"command": "python3 -m unittest -q"}),
            text(FIX_SUMMARY),
        ]
    )


@dataclass
class Stage:
    """Both stand-ins, started, with the sample repository and its people in place."""

    root: Path
    github: GitHubStandIn = field(init=False)
    model: ModelStandIn = field(init=False)

    def __enter__(self) -> Stage:
        self.github = GitHubStandIn(root=self.root / "github").start()
        self.model = ModelStandIn(api_key=MODEL_API_KEY, min_cacheable_tokens=256).start()
        self.github.add_user("alice")
        self.github.add_user("mallory")
        self.github.create_repo(REPO, files=SAMPLE_FILES)
        self.github.set_permission(REPO, "alice", "write")
        self.github.set_permission(REPO, "mallory", "read")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.github.stop()
        self.model.stop()

    def rolecall_env(self, data_dir: Path) -> dict[str, str]:
        """The settings that point Rolecall at these stand-ins."""
        return {
            "APP_ID": str(self.github.app_id),
            "PRIVATE_KEY": self.github.private_key_pem,
            "WEBHOOK_SECRET": self.github.webhook_secret,
            "GITHUB_API_URL": self.github.api_url,
            "ANTHROPIC_API_KEY": MODEL_API_KEY,
            "ANTHROPIC_BASE_URL": self.model.url,
            "ROLECALL_DATA_DIR": str(data_dir),
        }

    def open_issue(self) -> int:
        return int(self.github.open_issue(REPO, "alice", ISSUE_TITLE, ISSUE_BODY))
