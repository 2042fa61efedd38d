"""How well prompt caching survives context fitting on a long run with loud tools.

Runs the agent loop (agents.executor, through the real SDK and HTTP) against the model
stand-in for `--turns` turns on claude-haiku-4-5 (200k-token window). Every turn is a
Bash call whose output is as long as the toolbox keeps (30,000 characters, about 7,500
tokens), so the conversation passes the window at turn 28 and the run must
clear old tool results; with `--write-chars` it must also compact. The system prompt and
tool definitions are Rolecall's own. No sandbox and no network: the tool is a stand-in
that prints, because what is measured is the prompt, not the commands.

Printed: the cache-read share of input tokens, cache_read / (input + cache_read +
cache_creation) over every request of the run, summary requests included; how many
clearings and compactions happened; and the largest request against the window.

    .venv/bin/python bench/context_cache.py --turns 60
    .venv/bin/python bench/context_cache.py --turns 60 --write-chars 30000   # compactions
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from agents.brief import system_prompt
from agents.context_window import SUMMARY_INSTRUCTION, window_for
from agents.executor import Executor, Limits
from agents.model import ModelClient, ModelRef, Provider, make_client
from agents.roles.loader import builtin_roles
from agents.text.capping import DEFAULT_MAX_CHARS
from agents.tools.result import ToolResult
from agents.tools.schemas import tool_schemas
from standins.model import ModelStandIn, TurnLike, text, tool_use
from standins.model.window import prompt_tokens

KEY = "bench-key"


class LoudTools:
    """Rolecall's tool definitions; Bash answers with `size` characters of build log."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.calls = 0
        self.schemas = tool_schemas(300)

    def specs(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "description": description, "input_schema": schema}
            for name, (description, schema) in self.schemas.items()
        ]

    def call(self, name: str, tool_input: dict[str, Any]) -> ToolResult:
        self.calls += 1
        if name != "Bash":
            return ToolResult(f"Wrote {len(str(tool_input.get('content', '')))} characters.")
        line = f"[{self.calls}] {tool_input.get('command')}: compiling module, warnings shown\n"
        return ToolResult((line * (self.size // len(line) + 1))[: self.size])


class Agent:
    """A build command every turn, then done; a summary when asked for one. With
    `write_chars`, every other turn writes a file of that size instead (a tool input,
    which clearing cannot shorten: those runs compact)."""

    def __init__(self, turns: int, write_chars: int) -> None:
        self.turns = turns
        self.write_chars = write_chars
        self.done = 0

    def __call__(self, request: dict[str, Any]) -> TurnLike:
        last = request["messages"][-1]["content"]
        if isinstance(last, list) and last and last[-1].get("text") == SUMMARY_INSTRUCTION:
            return text("Goal: a quiet build. Done: many builds. Remaining: the fix.")
        self.done += 1
        if self.done >= self.turns:
            return text("Done.")
        if self.write_chars and self.done % 2 == 0:
            body = (f"# generated, step {self.done}\n" * self.write_chars)[: self.write_chars]
            return tool_use("Write", {"file_path": f"gen/step_{self.done}.py", "content": body})
        return tool_use("Bash", {"command": f"make -C build step-{self.done}"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60, help="turns of the run (at most 500)")
    parser.add_argument("--output-chars", type=int, default=DEFAULT_MAX_CHARS)
    parser.add_argument(
        "--window", type=int, default=None, help="a window for an unknown model instead"
    )
    parser.add_argument(
        "--write-chars", type=int, default=0, help="every other turn writes a file this big"
    )
    args = parser.parse_args()
    turns = max(2, min(args.turns, 500))
    model = ModelRef("anthropic", "claude-haiku-4-5" if args.window is None else "claude-bench")
    window = window_for(model.id, args.window)
    role = next(r for r in builtin_roles() if r.name == "implementer")
    tools = LoudTools(args.output_chars)
    system = system_prompt(role.instructions, "octo/calc", tools.schemas)

    with (
        tempfile.TemporaryDirectory() as scratch,
        ModelStandIn(
            api_key=KEY, min_cacheable_tokens=4096, context_windows={model.id: window}
        ) as standin,
    ):
        standin.respond_with(Agent(turns, max(0, args.write_chars)))
        sdk = make_client(Provider("anthropic", standin.url, KEY), max_retries=0, timeout=60)
        client = ModelClient(sdk)
        limits = Limits(max_turns=turns + 5, max_cost_usd=None, context_window=args.window)
        transcript = Path(scratch) / "run.jsonl"
        executor = Executor(client, model, tools, limits, transcript)
        started = time.perf_counter()
        result = executor.run(system, "Make the build quieter; run it after each change.")
        elapsed = time.perf_counter() - started
        client.close()
        sizes = [prompt_tokens(r.json) for r in standin.requests]
        events = [json.loads(line) for line in transcript.read_text().splitlines()]

    usage = result.usage
    prompt = usage.prompt_tokens
    share = usage.cache_read_input_tokens / prompt if prompt else 0.0
    context = [e for e in events if e["event"] == "context"]
    print(f"model {model} (window {window:,} tokens), {result.turns} turns: {result.stop}")
    print(f"requests: {len(sizes)}; largest prompt {max(sizes):,} tokens")
    print(
        f"clearings: {executor.context.clearings}, compactions: {executor.context.compactions}"
        f" ({len(context)} context events in the transcript)"
    )
    print(
        f"input tokens: {prompt:,} = {usage.input_tokens:,} uncached + "
        f"{usage.cache_creation_input_tokens:,} cache writes + "
        f"{usage.cache_read_input_tokens:,} cache reads"
    )
    print(f"cache-read share of input tokens: {share:.1%}")
    print(f"wall time: {elapsed:.1f} s")


if __name__ == "__main__":
    main()
