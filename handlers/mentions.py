"""`@rolecall …` as a request, the way people address GitHub Apps and other agents.

A mention counts only where a reader sees it: in a top-level paragraph, outside code,
block quotes, HTML (comments included) and link destinations, with the same markdown
reading as slash commands (handlers.commands). `@<slug> /<name> notes` is the command
`/<name>` with those notes; `@<slug>` followed by anything else asks for the default
work — `implement` on an issue, `fix` on a pull request — with the rest of the comment
as its notes. The slug is the App's, from its bot login (`<slug>[bot]`, learned from
`GET /app`); until it is known, mentions start nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache

from agents.text.sanitize import sanitize
from handlers.command_names import FIX, IMPLEMENT
from handlers.commands import Command, visible_paragraphs
from handlers.markdown_inline import InlineScan

_NAME = re.compile(r"/([a-z][a-z0-9-]*)(?= |$)", re.ASCII | re.IGNORECASE)
_LEAD = re.compile(r"[\s,:;—-]*")


def slug_of(bot_login: str | None) -> str | None:
    """`rolecall` for `rolecall[bot]`; None when the login is not known yet."""
    if not bot_login or not bot_login.endswith("[bot]"):
        return None
    return bot_login.removesuffix("[bot]")


@lru_cache(maxsize=16)
def _mention_of(slug: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@./-])@{re.escape(slug)}(?![\w-])", re.IGNORECASE)


def may_mention(text: str, slug: str) -> bool:
    """False only when `mention_command(text, slug, …)` is certainly None, cheaply.

    The visible paragraphs `mention_command` searches are the comment's own lines with
    their leading spaces dropped, tabs expanded and code lines blanked, joined by "\n":
    next to a mention there, each character is the comment's own or, where a line starts
    or ends or a tab was, a space, tab or line break in the comment too, none of which
    stops a mention. So a mention there is a mention in the comment as written.
    """
    return "@" in text and _mention_of(slug).search(text) is not None


def mention_command(text: str, slug: str, *, on_pull_request: bool) -> Command | None:
    """The request the first visible `@slug` in `text` makes, if there is one."""
    pattern = _mention_of(slug)
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for lines, joined in visible_paragraphs(text):
        hidden = InlineScan(joined, modern=False).hidden_spans()
        hidden += InlineScan(joined, modern=True).hidden_spans()
        for found in pattern.finditer(joined):
            if any(start < found.start() < end for start, end in hidden):
                continue
            line = lines[joined.count("\n", 0, found.start())]
            rest = joined[found.end() :]
            rest = rest[_LEAD.match(rest).end() :]  # type: ignore[union-attr]
            after = "\n".join(raw_lines[lines[-1] :])  # the paragraphs that follow
            named = _NAME.match(rest)
            if named is not None:
                notes = sanitize(f"{rest[named.end() :]}\n{after}").strip()
                return Command(name=named.group(1).lower(), notes=notes, line=line)
            default = FIX if on_pull_request else IMPLEMENT
            return Command(name=default, notes=sanitize(f"{rest}\n{after}").strip(), line=line)
    return None
