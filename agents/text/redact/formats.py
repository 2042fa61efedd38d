"""Credential formats: tokens that say what they are wherever they appear.

Two sources. Rolecall's own secrets and the formats it depends on are written here,
because their shape matters most and changes with the services Rolecall talks to:
GitHub tokens of every kind and length (installation tokens in GitHub's newer, longer
formats included), Anthropic and OpenAI keys, the App's PEM private key, JWTs (the
App's own), npm tokens, and credentials in an `Authorization` header. Everybody else's
formats come from detect-secrets' plugins (Yelp's well-kept catalogue: AWS, Azure,
GitLab, Slack, Stripe, SendGrid, Telegram, Twilio, PyPI and more), by pattern only:
its keyword and entropy detectors flag every `password:` and most ordinary words, and
its GitHub pattern knows only the 36-character tokens (see SECURITY.md).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

Span = tuple[int, int]


@dataclass(frozen=True)
class Format:
    """One credential pattern. `fixed`: its length (or end marker) says where it ends,
    so a match found with line breaks removed is taken whole."""

    pattern: re.Pattern[str]
    fixed: bool = False


# Every repetition is bounded (by more than any real credential needs): the agent
# writes the text, and an unbounded one read from each of many prefixes (`sk-ant-`
# written 10,000 times) would take time quadratic in its length.
#
# A PEM private key: up to its footer through what a key block holds (base64, blank
# lines, escaped line breaks, `Proc-Type:`/`DEK-Info:` headers); without a footer (a
# truncated key), the base64 lines that follow the header.
_PEM = (
    r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----(?:[A-Za-z0-9+/=\s\\:,.\-]{0,5000}?"
    r"-----END [A-Z ]{0,20}PRIVATE KEY-----"
    r"|(?:[ \t]*(?:\r?\n|\\r?\\n)[ \t]*[A-Za-z0-9+/=]{8,128}){0,128})"
)

OWN_FORMATS: tuple[Format, ...] = (
    # GitHub: personal (ghp_), OAuth (gho_), user-to-server (ghu_), installation (ghs_)
    # and refresh (ghr_) tokens, of any length: the classic 36 characters, longer ones,
    # and the `ghs_<app id>_<JWT>` installation tokens (dots and dashes included).
    Format(
        re.compile(
            r"gh[pousr]_(?:\d{1,12}_[A-Za-z0-9_\-]{20,1024}(?:\.[A-Za-z0-9_\-]{1,1024}){0,2}"
            r"|[A-Za-z0-9]{20,1024}(?:[._\-][A-Za-z0-9]{1,1024}){0,4})"
        )
    ),
    Format(re.compile(r"gh[pousr]_[A-Za-z0-9]{36}"), fixed=True),
    Format(re.compile(r"github_pat_[A-Za-z0-9_]{22,255}")),
    Format(re.compile(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"), fixed=True),
    # Anthropic API and admin keys; OpenAI project, service-account and admin keys.
    Format(re.compile(r"sk-ant-[A-Za-z0-9_\-]{10,512}")),
    Format(re.compile(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,512}")),
    Format(re.compile(r"sk-[A-Za-z0-9_\-]{0,160}T3BlbkFJ[A-Za-z0-9_\-]{20,160}")),
    # PEM private keys (RSA, EC, OPENSSH, PKCS#8, encrypted), truncated ones too.
    Format(re.compile(_PEM), fixed=True),
    # JSON Web Tokens (a GitHub App's JWT among them): base64url of `{"` twice.
    Format(
        re.compile(
            r"eyJ[A-Za-z0-9_\-]{8,2048}\.eyJ[A-Za-z0-9_\-]{8,2048}\."
            r"(?:[A-Za-z0-9_]|-(?!----)){0,1024}"
        )
    ),
    # Registries a role may be allowed to reach.
    Format(re.compile(r"npm_[A-Za-z0-9]{36}"), fixed=True),
    Format(re.compile(r"AIza[0-9A-Za-z_\-]{35}"), fixed=True),
    # Stripe secret and restricted keys, now far longer than detect-secrets' 24.
    Format(re.compile(r"[rs]k_(?:live|test)_[0-9A-Za-z]{16,255}")),
    Format(re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"), fixed=True),
    # Credentials in an Authorization header, whatever the scheme's case.
    Format(
        re.compile(
            r"(?i:authorization)[\"']?\s*[:=]\s*[\"']?(?i:bearer|token|basic)\s+"
            r"(?P<secret>[A-Za-z0-9._~+/=\-]{8,4096})"
        )
    ),
)

# detect-secrets plugins whose patterns are used, by module and class name. Left out:
# KeywordDetector and the entropy detectors (they flag ordinary words and miss TOKEN,
# AUTH, DSN and CREDENTIAL names: `agents.text.redact.shapes` does that job), GitHubToken
# (36 characters only), JwtToken and PrivateKey (ours redact the whole token or block),
# BasicAuth (ours knows placeholders), Artifactory (matches ordinary identifiers such
# as `APBatchJobs1`), IPPublic (an address is not a credential), and the IBM Cloud,
# Cloudant, COS and SoftLayer keyword patterns (`ibm_cloud_api_key = …`: what
# `shapes` finds by name; they took two thirds of the scanning time), and OpenAI (its
# unbounded pattern takes quadratic time on a text of repeated `sk-`: ours is bounded)
# and npm (the same with `//`; `npm_` tokens are ours, an `_authToken=` is a name).
_ADOPTED = (
    ("aws", "AWSKeyDetector"),
    ("azure_storage_key", "AzureStorageKeyDetector"),
    ("discord", "DiscordBotTokenDetector"),
    ("gitlab_token", "GitLabTokenDetector"),
    ("mailchimp", "MailchimpDetector"),
    ("pypi_token", "PypiTokenDetector"),
    ("sendgrid", "SendGridDetector"),
    ("slack", "SlackDetector"),
    ("square_oauth", "SquareOAuthDetector"),
    ("stripe", "StripeDetector"),
    ("telegram_token", "TelegramBotTokenDetector"),
    ("twilio", "TwilioKeyDetector"),
)
# A detect-secrets pattern's last group is the secret when it is at least this long
# (`aws…key = "<40 characters>"`); a shorter one is a prefix (`(glpat|gldt)-…`), and
# then the whole match is the credential.
_MIN_GROUP_SECRET = 16
_LEADING = " \t\r\n\"'=:"
_TRAILING = " \t\r\n\"'"


@functools.cache
def detect_secrets_formats() -> tuple[Format, ...]:
    """The patterns of the adopted detect-secrets plugins (imported on first use)."""
    import importlib

    found: list[Format] = []
    for module_name, class_name in _ADOPTED:
        module = importlib.import_module(f"detect_secrets.plugins.{module_name}")
        plugin = getattr(module, class_name)()
        found += [Format(pattern) for pattern in plugin.denylist]
    return tuple(found)


def all_formats() -> tuple[Format, ...]:
    return OWN_FORMATS + detect_secrets_formats()


def format_spans(text: str, formats: tuple[Format, ...]) -> Iterator[tuple[Span, bool]]:
    """Each credential in `text` as (span, fixed), the span being the secret alone."""
    for fmt in formats:
        for match in fmt.pattern.finditer(text):
            span = _secret_span(match)
            if span[1] > span[0]:
                yield span, fmt.fixed


def _secret_span(match: re.Match[str]) -> Span:
    if "secret" in match.re.groupindex:
        return match.span("secret")
    index = match.lastindex
    if index and len(match.group(index) or "") >= _MIN_GROUP_SECRET:
        return match.span(index)
    start, end = match.span()
    text = match.string
    while start < end and text[start] in _LEADING:
        start += 1
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    return start, end
