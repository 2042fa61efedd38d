"""Model names as people write them -> what Rolecall's model table holds, or whose they are."""

from __future__ import annotations

import pytest

from agents.context_window import CONTEXT_WINDOWS
from agents.model_names import (
    KNOWN_CLAUDE_IDS,
    ModelName,
    claude_id,
    closest_claude_id,
    read_model_name,
    vendor_of,
)
from agents.pricing import PRICES


def test_every_model_in_the_table_has_a_price_and_a_context_window() -> None:
    assert set(KNOWN_CLAUDE_IDS) == set(PRICES) == set(CONTEXT_WINDOWS)


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("Claude Sonnet 4.6 (copilot)", "claude-sonnet-4-6"),
        ("Claude Opus 4.5 (Preview)", "claude-opus-4-5"),
        ("Claude Sonnet 4", "claude-sonnet-4-0"),
        ("Claude Opus 5", "claude-opus-5"),
        ("Claude Sonnet 5.0", "claude-sonnet-5"),
        ("Claude 4.6 Opus", "claude-opus-4-6"),
        ("Claude Sonnet 4.5 Thinking", "claude-sonnet-4-5"),
        ("claude-haiku-4.5", "claude-haiku-4-5"),
        # Not in the table: never an id made up from the name.
        ("Claude Haiku 4.6", None),
        ("Claude 3.5 Sonnet", None),
        ("Claude Instant 1.2", None),
        ("GPT-4.1", None),
    ],
)
def test_claude_names_map_only_to_ids_in_the_table(name: str, known: str | None) -> None:
    assert claude_id(name) == known
    assert known is None or known in KNOWN_CLAUDE_IDS


@pytest.mark.parametrize(
    ("name", "closest"),
    [
        ("Claude Haiku 4.6 (copilot)", "claude-haiku-4-5"),
        ("Claude 3.7 Sonnet", "claude-sonnet-4-0"),
        ("Claude Opus 4.9", "claude-opus-5"),  # as near to 4.8 as to 5: the newer
        ("Claude Sonnet 9", "claude-sonnet-5-5"),
    ],
)
def test_the_closest_known_id_is_the_same_family_at_the_nearest_version(
    name: str, closest: str
) -> None:
    assert closest_claude_id(name) == closest


def test_a_claude_name_without_a_family_gets_the_most_similar_spelling() -> None:
    assert closest_claude_id("Claude Instant 1.2") in KNOWN_CLAUDE_IDS


@pytest.mark.parametrize(
    ("name", "vendor"),
    [
        ("GPT-4.1", "OpenAI"),
        ("GPT-5.3-Codex", "OpenAI"),
        ("o4-mini (Preview)", "OpenAI"),
        ("Gemini 2.5 Pro", "Google"),
        ("Grok Code Fast 1", "xAI"),
        ("Claude Sonnet 4", None),
        ("opus", None),
        ("my-finetune", None),
    ],
)
def test_other_vendors_are_recognised(name: str, vendor: str | None) -> None:
    assert vendor_of(name) == vendor


@pytest.mark.parametrize(
    ("written", "meaning"),
    [
        ("Sonnet", ModelName("Sonnet", spec="sonnet")),
        ("ollama , qwen3", ModelName("ollama , qwen3", spec="ollama,qwen3")),
        ("claude-sonnet-4-5-20250929", ModelName("claude-sonnet-4-5-20250929",
                                                 spec="claude-sonnet-4-5-20250929")),
        ("Claude Sonnet 3.5", ModelName("Claude Sonnet 3.5", closest="claude-sonnet-4-0")),
        ("GPT-5 mini (copilot)", ModelName("GPT-5 mini (copilot)", vendor="OpenAI")),
        ("my-finetune", ModelName("my-finetune")),
    ],
)  # fmt: skip
def test_read_model_name(written: str, meaning: ModelName) -> None:
    assert read_model_name(written) == meaning
