"""The HTML document every page of Rolecall's is wrapped in."""

from __future__ import annotations

import html


def html_page(title: str, body: str) -> str:
    """`body` (already escaped where it holds data) in a complete HTML document."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body>
{body}
</body></html>
"""
