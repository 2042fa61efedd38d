"""The slash-command parser: only what a reader sees as `/name` starting a line counts."""

from __future__ import annotations

import pytest

from handlers.commands import Command, find_command, parse_commands

ZWSP, ZWJ, WJ, BOM, SHY = "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad"
RLO, LRI, RLM, ALM = "\u202e", "\u2066", "\u200f", "\u061c"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # -- what counts
        ("/implement", [("implement", "", 1)]),
        (
            "/implement keep the public API unchanged",
            [("implement", "keep the public API unchanged", 1)],
        ),
        ("/Implement Keep Case", [("implement", "Keep Case", 1)]),
        ("   /implement three spaces", [("implement", "three spaces", 1)]),
        ("Thanks!\n/implement please", [("implement", "please", 2)]),
        ("/implement\tafter a tab", [("implement", "after a tab", 1)]),
        ("# Plan\n/implement", [("implement", "", 2)]),
        ("```\ncode\n```\n/implement after the fence", [("implement", "after the fence", 4)]),
        ("> quoted\n\n/implement after the quote", [("implement", "after the quote", 3)]),
        ("<!-- note -->\n/implement", [("implement", "", 2)]),
        ("/implement <!-- hidden --> shown", [("implement", "shown", 1)]),
        ("/run-tests-2 now", [("run-tests-2", "now", 1)]),
        # -- notes: the rest of the line, then the paragraph, up to the next command
        (
            "/implement keep the API\nand add a test\n\nNot a note.",
            [("implement", "keep the API\nand add a test", 1)],
        ),
        ("/implement\n    indented continuation", [("implement", "indented continuation", 1)]),
        ("/implement\n- a list is not the paragraph", [("implement", "", 1)]),
        ("/implement\n> nor is a quote", [("implement", "", 1)]),
        ("/implement a\n<!--\nhidden\n-->\nafter", [("implement", "a", 1)]),
        ("/implement a\n/review b\nmore b", [("implement", "a", 1), ("review", "b\nmore b", 2)]),
        ("/implement one\n\n/implement two", [("implement", "one", 1), ("implement", "two", 3)]),
        (f"/implement do{ZWSP} it", [("implement", "do it", 1)]),
        # -- CRLF and CR line endings
        (
            "Hi\r\n/implement crlf\r\nmore\r\n\r\n/review",
            [
                ("implement", "crlf\nmore", 2),
                ("review", "", 5),
            ],
        ),
        ("```\r\n/implement\r\n```\r\n/review", [("review", "", 4)]),
        ("Hi\r/implement cr", [("implement", "cr", 2)]),
        # -- fenced code, ``` and ~~~, including indented fences
        ("```\n/implement\n```", []),
        ("~~~\n/implement\n~~~", []),
        ("```python\n/implement\n```", []),
        ("  ```\n/implement\n  ```", []),
        ("   ~~~\n/implement\n~~~", []),
        ("````\n```\n/implement\n````", []),  # a shorter fence does not close a longer one
        ("~~~\n```\n/implement\n~~~", []),  # nor does the other character
        ("```\n/implement", []),  # unclosed: runs to the end
        ("```\nx\n``` not a closer\n/implement\n```", []),
        ("```\nx\n``` <!-- -->\n/implement\n```", []),  # a comment does not make a closer
        ("- item\n\n  ```\n  /implement\n  ```", []),
        ("- ```\n  /implement\n  ```", []),
        ("> ```\n> /implement\n> ```", []),
        # -- indented code blocks
        ("    /implement", []),
        ("\t/implement", []),
        ("Text\n\n    /implement", []),
        ("Text\n\t/implement", []),  # a continuation line, but indented past three spaces
        # -- inline code spans, also across lines
        ("`/implement`", []),
        ("Run `\n/implement` later", []),
        ("Run ``x\n/implement`` later", []),
        ("Run `` ` ``\n/implement ok", [("implement", "ok", 2)]),  # that span closed
        ("Run \\`\n/implement ok `", [("implement", "ok `", 2)]),  # an escaped backtick
        # -- blockquotes, and their lazy continuation lines
        ("> /implement", []),
        (">/implement", []),
        ("   > /implement", []),
        ("> > /implement", []),
        ("> quoted\n/implement", []),  # a lazy line belongs to the quote
        ("> quoted\ncontinued\n/implement", []),
        # -- lists
        ("- /implement", []),
        ("1. /implement", []),
        ("- item\n\n  /implement", []),
        ("- item\n/implement", []),
        # -- HTML comments and other HTML
        ("<!-- /implement -->", []),
        ("<!--\n/implement\n-->", []),
        ("<!--\n\n/implement\n\n-->", []),
        ("<!-- never closed\n\n/implement", []),
        ("Text <!--\n/implement\n--> more", []),
        ("Text <!-- a -- b\n/implement -->", []),
        ("Text <span title='\n/implement'>", []),
        ("<script>\n\n/implement\n</script>", []),
        ("<div>\n/implement\n</div>", []),
        # -- links and images
        ("See [the docs](https://example.com 'title\n/implement')", []),
        ("![screenshot\n/implement](shot.png)", []),
        ("[x]:\n/implement", []),  # a link reference definition renders as nothing
        # -- zero-width and bidi characters
        (f"/imple{ZWSP}ment", []),
        (f"/imple{ZWJ}ment", []),
        (f"/imple{SHY}ment", []),
        (f"/{WJ}implement", []),
        (f"{ZWSP}/implement", []),
        (f"{BOM}/implement", []),
        (f"{RLO}/implement", []),
        (f"{LRI}/implement", []),
        (f"{RLM}/implement", []),
        (f"{ALM}/implement", []),
        (f"/implement{ZWSP}", []),
        (f"/implement{RLO} reversed", []),
        # -- not commands at all
        ("", []),
        ("Please /implement this", []),
        ("/implement: with a colon", []),
        ("/usr/bin/env python", []),
        ("/ implement", []),
        ("/1implement", []),
        ("\\/implement", []),
        ("/ímplement", []),
        ("/\u212aelvin", []),  # the Kelvin sign is not an ASCII k
    ],
)
def test_parse_commands(body: str, expected: list[tuple[str, str, int]]) -> None:
    assert parse_commands(body) == [Command(name, notes, line) for name, notes, line in expected]


def test_find_command_takes_the_first_of_that_name() -> None:
    body = "/review first\n\n/implement one\n\n/implement two"
    assert find_command(body, "implement") == Command("implement", "one", 3)
    assert find_command(body, "deploy") is None


@pytest.mark.parametrize(
    "body",
    [
        "<!--" * 16_000,
        "x\n/implement " + "<!-- <? <![CDATA[ <!x <a b=' [x]( `` " * 1_700,
        "`a``" * 15_000 + "\n/implement",
        "> " * 30_000,
        "1. " * 20_000,
        "[\n/implement " * 5_000,
        "```\n/implement\n" * 3_000,
    ],
    ids=[
        "comments",
        "inline-openers",
        "backticks",
        "deep-quotes",
        "deep-lists",
        "brackets",
        "fences",
    ],
)
def test_hostile_bodies_of_github_maximum_size_still_parse(body: str) -> None:
    """GitHub caps a comment at 65,536 characters; every one of these is handled (in
    linear time: the bench, not this test, is where speed is measured)."""
    assert len(body) <= 65_536
    assert all(c.name == "implement" for c in parse_commands(body))
