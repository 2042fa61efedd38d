"""bot.render.inert: agent text that reads the same and does nothing on GitHub.

Each attack is judged by `tests.markdown_oracle` (GitHub's own cmark and models of its
mention, reference and closing-keyword filters): every case is first shown to be live as
the agent wrote it, then inert once neutralized.
"""

from __future__ import annotations

import random

import pytest

from agents.text.redact import Redactor
from bot.render.inert import ZWSP, Neutralizer, github_host_of, inert_markdown, inert_plain_text
from tests import markdown_oracle

HOST = "github.com"
EVIL = "https://evil.example/pixel.png"

ATTACKS = {
    # mentions of people and teams, however they are dressed
    "mention": "cc @some-user",
    "team": "Ping @octo/maintainers please.",
    "mention at start": "@some-user look",
    "mention in emphasis": "**@some-user**",
    "mention after code": "`x`@some-user",
    "mention escaped": "\\@some-user",
    "mention after a letter GitHub treats as a boundary": "é@some-user",
    "mention as an entity": "&#64;some-user hello",
    "mention as a named entity": "&commat;some-user hello",
    "mention in a heading": "## Thanks @some-user",
    "mention in a table cell": "| who |\n| --- |\n| @some-user |",
    "mention in a quote": "> @some-user said so",
    # closing keywords, every form GitHub documents, with and without a colon
    **{
        f"keyword {word}": f"{word} #12"
        for word in (
            "close",
            "closes",
            "closed",
            "fix",
            "fixes",
            "fixed",
            "resolve",
            "resolves",
            "resolved",
            "FIXES",
            "Fixes:",
        )
    },
    "keyword for another repository": "Closes octo/calc#12",
    "keyword with an issue URL": "Resolves https://github.com/octo/calc/issues/12",
    "keyword with a pull URL": "fixes: https://github.com/octo/calc/pull/12",
    "keyword over a line break": "This Fixes\n#12",
    "keyword in emphasis": "**Fixes** #12",
    "keyword with an escaped hash": "Fixes \\#12",
    "keyword as an entity": "&#70;ixes #12",
    "cross-repository reference": "See elsewhere/project#7 too.",
    # images from other hosts, every way markdown and HTML make one
    "image": f"![status]({EVIL})",
    "image with a title": f'![status]({EVIL} "t")',
    "reference image": f"![logo][px]\n\n[px]: {EVIL}",
    "image inside a link": f"[![badge]({EVIL})](https://github.com/octo/calc)",
    "html image": f'<img src="{EVIL}">',
    "html picture": f'<picture><source srcset="{EVIL}"><img src="{EVIL}"></picture>',
    # raw HTML and Rolecall's own markers
    "details": "<details><summary>More</summary>\n\nhidden\n\n</details>",
    "inline html": "<span>x</span> <b>bold</b>",
    "html comment": "visible <!-- hidden text --> visible",
    "div": '<div align="center">x</div>',
    "marker": "<!-- rolecall:job=1 -->",
    "thread marker": "<!--rolecall:job=3 thread=T1-->",
    "marker in a code block": "```\n<!-- rolecall:job=1 -->\n```",
    # code that is not code: where a naive reading of backticks would be fooled
    "fence a list item closes": "- ```\n@some-user\n```",
    "code span split by a table": "| a | b |\n| --- | --- |\n| `x | @some-user` | y |",
    "backtick in a link destination": "[x](https://a.example/`b)@some-user`",
    "code span across a blank line": "`a\n\n@some-user `",
}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_each_attack_is_live_as_written_and_inert_once_neutralized(attack: str) -> None:
    assert not markdown_oracle.live_parts(attack, github_host=HOST).inert, "not an attack"
    neutral = inert_markdown(attack, github_host=HOST)
    assert markdown_oracle.live_parts(neutral, github_host=HOST).inert, neutral
    assert inert_markdown(neutral, github_host=HOST) == neutral, "neutralizing twice changes it"


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_each_attack_is_inert_as_plain_text_too(attack: str) -> None:
    """A commit message or a title: nothing is rendered, nothing is code."""
    found = markdown_oracle.live_parts_of_plain_text(inert_plain_text(attack))
    assert found.inert, found


ORDINARY = """## What changed

- Added `mul()` to `calc.py`, with a test in `test_calc.py`.
- Fixed the *sign* bug reported in #3 (see [the docs](https://github.com/octo/calc/wiki)).

| command | exit |
| --- | --- |
| `python3 -m unittest -q` | 0 |

```python
@pytest.fixture
def calc() -> Calc:
    return Calc()  # a < b && c > d
```

> Note: the fix is covered by **one** test.

1. Run the tests.
2. Read https://github.com/octo/calc/pull/4 for context.
"""


def test_ordinary_markdown_is_left_exactly_as_it_was() -> None:
    assert inert_markdown(ORDINARY, github_host=HOST) == ORDINARY
    assert markdown_oracle.live_parts(ORDINARY, github_host=HOST).inert


def test_what_changes_still_reads_the_same() -> None:
    neutral = inert_markdown(
        "Thanks @some-user! Fixes #12. <b>bold</b> ![x](https://evil.example/x.png)",
        github_host=HOST,
    )
    rendered = markdown_oracle.render(neutral)
    visible = "".join(markdown_oracle.render(neutral).text).replace(ZWSP, "")
    assert visible.startswith("Thanks @some-user! Fixes #12. <b>bold</b> !")
    # The outside image is a link to where it pointed, not an image.
    assert rendered.images == [] and 'href="https://evil.example/x.png"' in rendered.html


def test_an_image_on_the_github_host_stays_an_image() -> None:
    image = "![screenshot](https://github.com/octo/calc/raw/main/shot.png)"
    assert inert_markdown(image, github_host=HOST) == image
    assert markdown_oracle.render(image).images == [
        "https://github.com/octo/calc/raw/main/shot.png"
    ]
    for other in ("http://github.com/x.png", "https://github.com.evil.example/x.png"):
        neutral = inert_markdown(f"![s]({other})", github_host=HOST)
        assert markdown_oracle.render(neutral).images == [], other


def test_a_url_keeps_working_with_its_at_sign_encoded() -> None:
    neutral = inert_markdown("See https://www.npmjs.com/package/@types/node.", github_host=HOST)
    assert neutral == "See https://www.npmjs.com/package/%40types/node."
    assert markdown_oracle.live_parts(neutral, github_host=HOST).inert


@pytest.mark.parametrize(
    "fence",
    ["```python\n@decorator\n", "````\n@decorator\n```\n", "~~~\n@decorator\n```\n"],
    ids=["never closed", "closed too short", "closed with backticks"],
)
def test_a_fence_the_agent_left_open_cannot_swallow_rolecalls_text(fence: str) -> None:
    body = inert_markdown(fence, github_host=HOST) + "\n\n## How it was verified\n\nFixes #3"
    html = markdown_oracle.render(body).html
    assert "<h2>How it was verified</h2>" in html and "<p>Fixes #3</p>" in html
    assert "@decorator" in body, "the code inside stays as it was"


def test_an_indented_fence_is_moved_to_the_margin_so_no_list_can_end_it_early() -> None:
    attack = "- step\n  ```\n@some-user\n  ```\n@other-user"
    assert not markdown_oracle.live_parts(attack, github_host=HOST).inert
    neutral = inert_markdown(attack, github_host=HOST)
    assert neutral == "- step\n```\n@some-user\n```\n@" + ZWSP + "other-user"
    assert markdown_oracle.live_parts(neutral, github_host=HOST).inert


def test_windows_line_endings_do_not_hide_a_fence() -> None:
    neutral = inert_markdown("```\r\n@decorator\r\n```\r\n@some-user", github_host=HOST)
    assert markdown_oracle.live_parts(neutral, github_host=HOST).inert


def test_plain_text_has_no_code_blocks_to_hide_in() -> None:
    message = inert_plain_text("feat: add mul()\n\n```\nFixes #3 for @some-user\n```")
    assert markdown_oracle.live_parts_of_plain_text(message).inert
    assert message.replace(ZWSP, "") == "feat: add mul()\n\n```\nFixes #3 for @some-user\n```"


def test_a_secret_is_redacted_before_the_zero_width_spaces_could_split_it() -> None:
    secret = "p@ss&word#42-correct-horse"
    words = Neutralizer(Redactor([secret]), HOST)
    for posted in (words.markdown(f"the password is {secret}"), words.plain(secret)):
        assert "[REDACTED]" in posted and secret not in posted.replace(ZWSP, "")


def test_the_github_host_is_read_from_the_repository_url() -> None:
    assert github_host_of("https://github.com/octo/calc.git") == "github.com"
    assert github_host_of("http://127.0.0.1:8123/octo/calc.git") == "127.0.0.1:8123"


PIECES = [
    "@some-user",
    "@octo/team",
    "Fixes #12",
    "fixes\n#3",
    "octo/calc#5",
    "`",
    "``",
    "```",
    "~~~",
    "\n```\n",
    "\n~~~~\n",
    "\n  ```\n",
    "\n- ",
    "\n> ",
    "\n    ",
    "\n\n",
    "\n",
    " ",
    "|",
    "\n| a | b |\n| --- | --- |\n",
    "](",
    ")",
    "[",
    "]",
    "![x](https://evil.example/x.png)",
    "<img src=https://evil.example/y.png>",
    "<details>",
    "<!--",
    "-->",
    "<!-- rolecall:job=1 -->",
    "&#64;",
    "&",
    "\\",
    "*",
    "_",
    "$",
    "https://x.example/",
    "www.x.example",
    "word",
]


def test_random_documents_built_from_hostile_pieces_are_always_inert() -> None:
    """The class, not the examples: thousands of documents mixing fences, code spans,
    containers, tables, links and attacks; each must render inert and must not swallow
    what Rolecall appends."""
    rng = random.Random(9)
    for _ in range(3000):
        document = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 30)))
        neutral = inert_markdown(document, github_host=HOST)
        found = markdown_oracle.live_parts(neutral, github_host=HOST)
        assert found.inert, (document, neutral, found)
        html = markdown_oracle.render(neutral + "\n\n## Rolecall's own heading\n").html
        assert "<h2>Rolecall" in html, (document, neutral)
