"""A role's thinking budget turns thinking on in the form each model accepts."""

from __future__ import annotations

import pytest

from agents.thinking import thinking_param


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-sonnet-5-5", {"type": "adaptive"}),  # budgets are refused from 4.7 on
        ("claude-opus-4-7", {"type": "adaptive"}),
        ("claude-opus-4-6", {"type": "adaptive"}),  # both work; adaptive is recommended
        ("claude-opus-5", {"type": "adaptive"}),
        ("claude-sonnet-4-5", {"type": "enabled", "budget_tokens": 8000}),
        ("claude-haiku-4-5-20251001", {"type": "enabled", "budget_tokens": 8000}),
        ("claude-opus-4-20250514", {"type": "enabled", "budget_tokens": 8000}),
        ("qwen2.5-coder:7b", {"type": "enabled", "budget_tokens": 8000}),
    ],
)
def test_the_thinking_parameter_fits_the_model(model: str, expected: dict[str, object]) -> None:
    assert thinking_param(model, 8000) == expected
