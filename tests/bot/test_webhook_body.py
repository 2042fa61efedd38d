"""The scan that sends a body with a long number the careful way finds every such number.

`has_long_digit_run` reads every fourth byte first; a body it wrongly passed would have
an integer past 64 bits read by msgspec, which does not refuse it (the edge tests in
tests/security/test_webhook_edge.py show the 400 a sender sees). Here it is compared with
the plain definition, a search of every byte, wherever a run sits and however long.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from bot.web.webhook_body import has_long_digit_run

PAYLOADS = Path(__file__).parents[1] / "github-payloads"
EVERY_BYTE = re.compile(rb"[0-9]{19}")


def plainly(body: bytes) -> bool:
    return EVERY_BYTE.search(body) is not None


def test_runs_of_every_length_at_every_offset_are_found_exactly() -> None:
    for length in range(12, 25):
        for offset in range(9):
            for filler in (b"x", b"-", b"1-", b"2019-05-15T15:20:33Z"):
                body = filler * 3 + b"a" * offset + b"7" * length + b'"' + filler * 2
                assert has_long_digit_run(body) == plainly(body) == (length >= 19), body


def test_random_bodies_agree_with_a_search_of_every_byte() -> None:
    chance = random.Random(19)  # seeded: the same bodies every run
    for _ in range(20_000):
        body = bytes(
            chance.choice(b"0123456789" if chance.random() < 0.8 else b'.:-"e')
            for _ in range(chance.randint(0, 60))
        )
        assert has_long_digit_run(body) == plainly(body), body


def test_real_payloads_have_no_long_run_and_one_added_anywhere_is_found() -> None:
    for path in sorted(PAYLOADS.glob("*.json")):
        body = path.read_bytes()
        assert not has_long_digit_run(body), path.name
        for at in range(0, len(body), 97):
            changed = body[:at] + b"9223372036854775808" + body[at:]
            assert has_long_digit_run(changed), (path.name, at)
