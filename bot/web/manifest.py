"""The GitHub App manifest the setup page sends to GitHub, made from `app.yml`.

`app.yml` says what the App may do (permissions, events) and what it is; the setup page
adds where this Rolecall is: the webhook URL GitHub delivers to, the `redirect_url`
GitHub sends the person back to with a code, the OAuth `callback_urls` of the dashboard's
sign-in, and the `setup_url` GitHub shows after the App is installed.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

# GitHub's limit on an App's name.
NAME_LIMIT = 34
# A GitHub account login: letters, digits and single hyphens, at most 39 characters.
_LOGIN = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}")


class ManifestInputError(ValueError):
    """A value from the setup form that cannot go into a manifest; the message says why."""


@cache
def app_yml() -> dict[str, Any]:
    """`app.yml`, Rolecall's manifest template.

    Read through the package (`bot/app.yml` is a link to the repository's `app.yml`), so
    an installed Rolecall finds it as a clone does.
    """
    text = resources.files("bot").joinpath("app.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise RuntimeError("app.yml is not a mapping")
    return data


def build_manifest(
    *, name: str, webhook_url: str, redirect_url: str, callback_url: str, setup_url: str
) -> dict[str, Any]:
    """The manifest for an App called `name` that reaches this Rolecall at these URLs."""
    template = app_yml()
    return {
        "name": name,
        "url": template["url"],
        "description": template.get("description", ""),
        "hook_attributes": {"url": webhook_url, "active": True},
        "redirect_url": redirect_url,
        "callback_urls": [callback_url],
        "setup_url": setup_url,
        "setup_on_update": False,
        "request_oauth_on_install": False,
        "public": bool(template.get("public", False)),
        "default_permissions": dict(template["default_permissions"]),
        "default_events": list(template["default_events"]),
    }


def app_name(value: str) -> str:
    """The App's name from the form: `app.yml`'s when empty, else checked as GitHub would."""
    name = " ".join(value.split()) or str(app_yml()["name"])
    if len(name) > NAME_LIMIT:
        raise ManifestInputError(f"The App's name has at most {NAME_LIMIT} characters.")
    if not re.search(r"[A-Za-z0-9]", name):
        raise ManifestInputError("The App's name needs a letter or a digit.")
    return name


def organization(value: str) -> str | None:
    """The organization's login from the form; None registers the App on your own account."""
    login = value.strip()
    if not login:
        return None
    if not _LOGIN.fullmatch(login):
        raise ManifestInputError(
            f"{login!r} is not an organization's login (letters, digits and hyphens)."
        )
    return login


def webhook_url(value: str) -> str:
    """The webhook URL from the form: a full http(s) URL without a fragment."""
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ManifestInputError(
            "The webhook URL must be a full http:// or https:// URL (for example "
            "https://rolecall.example.com/api/github/webhooks or a smee.io channel)."
        )
    return url


def new_app_url(web_url: str, org: str | None) -> str:
    """GitHub's page that registers an App from a posted manifest, for an account or org."""
    if org is None:
        return f"{web_url}/settings/apps/new"
    return f"{web_url}/organizations/{quote(org, safe='')}/settings/apps/new"


def is_local(url: str) -> bool:
    """Whether `url` names this machine (GitHub cannot deliver webhooks there)."""
    host = (urlsplit(url).hostname or "").lower()
    return (
        host in ("localhost", "::1", "0.0.0.0")  # noqa: S104 (a name compared, not bound)
        or host.startswith("127.")
        or host.endswith(".localhost")
    )
