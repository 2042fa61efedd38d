"""Where GitHub's web pages are, given its REST API's URL (GITHUB_API_URL).

People register, install and authorize the App on GitHub's pages, not through the API:
`https://api.github.com` has its pages on `https://github.com`, a GitHub Enterprise
Server's `https://HOST/api/v3` on `https://HOST`, and any other API (the local stand-in)
on its own origin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

PUBLIC_API = "api.github.com"


def github_web_url(api_url: str) -> str:
    """The origin of GitHub's web pages for `api_url`, without a trailing slash."""
    parts = urlsplit(api_url.rstrip("/"))
    if parts.hostname == PUBLIC_API:
        return "https://github.com"
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.path.rstrip("/").endswith("/api/v3"):
        prefix = parts.path.rstrip("/").removesuffix("/api/v3")
        return f"{origin}{prefix}"
    return origin
