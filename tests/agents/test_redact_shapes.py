"""Secret-shaped text, written the way an attacker (or a careless role file) would.

Each test puts one value in one shape and one disguise and asserts the value does not
survive redaction, that it is found (so the push is refused), and that what is around it
stays readable. The other half asserts ordinary text, code and configuration that only
*mention* secrets pass untouched: a redactor that blanks every `token:` would make every
pull request unreadable.

Values are random and assembled at run time, so a hit proves this test's value leaked
and the repository holds no credential-shaped literal.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
from collections.abc import Callable

import pytest

from agents.text.redact import REDACTED, Redactor, find_secrets

ALPHABET = string.ascii_letters + string.digits


def rand(n: int = 32, alphabet: str = ALPHABET) -> str:
    """Random characters, with at least one digit, lower and upper case letter."""
    body = "".join(secrets.choice(alphabet) for _ in range(n - 3))
    return body + secrets.choice("ABCDEFGH") + secrets.choice("abcdefgh") + secrets.choice("2345")


def survives(value: str, out: str, size: int = 10) -> list[str]:
    """Stretches of `value` still readable in `out` (line breaks ignored)."""
    flat = "".join(out.split())
    starts = range(0, max(len(value) - size, 0) + 1)
    return [value[i : i + size] for i in starts if value[i : i + size] in flat]


def assert_hidden(text: str, value: str, *, keep: str = "") -> str:
    out = Redactor()(text)
    assert REDACTED in out, f"nothing redacted in {text!r}"
    assert value not in out, f"{value!r} survived in {out!r}"
    left = survives(value, out)
    assert not left, f"{left[0]!r} of the value survived in {out!r}"
    assert find_secrets(text), f"not found in {text!r}"
    if keep:
        assert keep in out, f"{keep!r} should stay readable in {out!r}"
    return out


# ---- NAME=value, wherever it is written --------------------------------------------------

NAMES = [
    "BETTER_AUTH_SECRET",
    "GITHUB_TOKEN",
    "DB_PASSWORD",
    "MYSQL_PWD",
    "DB_PASSWD",
    "STRIPE_API_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "MINIO_ACCESS_KEY",
    "JWT_PRIVATE_KEY",
    "GOOGLE_CREDENTIALS",
    "AUTH_TOKEN",
    "NEXTAUTH_SECRET",
    "SENTRY_DSN",
    "clientSecret",
    "apiKey",
    "db.password",
    "smtp-pass",
    "x-api-key",
]

SHAPES = {
    "env": "{name}={value}",
    "export": "export {name}={value}",
    "double-quoted env": '{name}="{value}"',
    "single-quoted env": "{name}='{value}'",
    "diff line": "+{name}={value}",
    "set -x trace": "+ export {name}={value}",
    "docker -e": "docker run -e {name}={value} app",
    "yaml": "env:\n  {name}: {value}\n  NEXT: 1",
    "yaml quoted": "  {name}: '{value}'",
    "json": '{{"{name}": "{value}", "debug": true}}',
    "json no space": '{{"{name}":"{value}"}}',
    "toml": '{name} = "{value}"',
    "python kwarg": 'connect(host="db", {name}="{value}")',
    "cli flag": "./deploy --{name}={value} --verbose",
    "walrus": "{name} := {value}",
    "ruby hash": '{{"{name}" => "{value}"}}',
    "JSON-escaped transcript": None,  # built below: the line as a transcript stores it
    "role file body": "---\nname: deployer\n---\nDeploy with {name}={value}.\nThen stop.",
}


def _shaped(shape: str, name: str, value: str) -> str:
    if shape == "JSON-escaped transcript":
        return json.dumps({"type": "text", "text": f"I set {name}={value}\nand ran it"})
    template = SHAPES[shape]
    assert template is not None
    return template.format(name=name, value=value)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_secret_named_value_is_redacted_in_every_shape(shape: str) -> None:
    for name in NAMES:
        value = rand(32)
        text = _shaped(shape, name, value)
        # The name stays, so a reader still sees what was configured.
        assert_hidden(text, value, keep=name)


@pytest.mark.parametrize(
    "value",
    [
        rand(40, ALPHABET + "+/") + "==",  # base64-ish
        rand(12, ALPHABET + "!@#%^&*-_") + "!",  # a password with symbols
        secrets.token_hex(32),  # hex
        secrets.token_urlsafe(24),
        "s3cr3t-" + rand(6),  # short, but plainly a password
    ],
    # Named, not shown: a random value as the test id changes it on every run.
    ids=["base64", "symbols", "hex", "urlsafe", "short"],
)
def test_every_kind_of_value_is_redacted(value: str) -> None:
    assert_hidden(f"BETTER_AUTH_SECRET={value}\n", value, keep="BETTER_AUTH_SECRET=")
    assert_hidden(f'"password": "{value}"', value, keep='"password"')


def test_a_value_seen_once_is_redacted_wherever_it_appears_again() -> None:
    value = rand(32)
    text = f"BETTER_AUTH_SECRET={value}\n\nThe app now signs sessions with {value}."
    out = assert_hidden(text, value)
    assert out.count(REDACTED) == 2


def test_a_dsn_and_urls_with_credentials() -> None:
    for url, value in [
        ("postgres://app:{v}@db.internal:5432/app", rand(12)),
        ("redis://:{v}@cache:6379/0", rand(16)),
        ("amqp://guest:{v}@mq/", "pa55-" + rand(5)),
        ("https://x-access-token:{v}@github.com/o/r.git", rand(40)),
        ("mongodb+srv://admin:{v}@cluster0.example.net/db", rand(10, ALPHABET + "!*")),
    ]:
        assert_hidden(f"DATABASE_URL={url.format(v=value)}", value, keep="DATABASE_URL=")
        assert_hidden(f"connect to {url.format(v=value)} now", value, keep="connect to")
    key = rand(32).lower()
    assert_hidden(f"SENTRY_DSN=https://{key}@o12.ingest.sentry.io/34", key)


# ---- Encodings ---------------------------------------------------------------------------

TOKEN = "ghs_" + rand(36)
ASSIGNMENT = f"BETTER_AUTH_SECRET={rand(32)}"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("prefix", ["", "+", "x", "ab", "abc", "+ ", "-", "0", "Zz9", "/"])
def test_base64_is_decoded_at_every_alignment(prefix: str) -> None:
    for plain in (TOKEN, ASSIGNMENT, f"user:{TOKEN}", f"a{TOKEN}", f"ab{TOKEN}"):
        encoded = b64(plain)
        out = Redactor()(f"{prefix}{encoded}\n")
        assert encoded.rstrip("=")[8:40] not in out, (prefix, plain, out)
        assert find_secrets(f"{prefix}{encoded}"), (prefix, plain)


def test_base64_folded_at_76_columns_in_a_diff() -> None:
    encoded = b64(f"{ASSIGNMENT}\nOTHER=1\n{TOKEN}\n" * 2)
    folded = "\n".join("+" + encoded[i : i + 76] for i in range(0, len(encoded), 76))
    out = Redactor()(f"diff --git a/k b/k\n{folded}\n")
    for i in range(0, len(encoded) - 12, 76):
        assert encoded[i + 4 : i + 16] not in out


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode().hex(),
        lambda s: s.encode().hex().upper(),
        lambda s: "0x" + s.encode().hex(),
        lambda s: "+" + s.encode().hex(),
        lambda s: "a" + s.encode().hex(),  # odd offset
        lambda s: "".join(f"\\x{b:02x}" for b in s.encode()),
        lambda s: " ".join(f"{b:02x}" for b in s.encode()),  # xxd / od style
        lambda s: "\n".join(  # xxd -p: 60 per line
            s.encode().hex()[i : i + 60] for i in range(0, len(s.encode().hex()), 60)
        ),
    ],
    ids=["hex", "HEX", "0x", "diff", "odd", "escapes", "spaced", "xxd -p"],
)
def test_hex_is_decoded(encode: Callable[[str], str]) -> None:
    for plain in (TOKEN, ASSIGNMENT):
        text = f"echo {encode(plain)} | xxd -r -p"
        out = Redactor()(text)
        assert REDACTED in out, (plain, text)
        hexed = plain.encode().hex()
        assert hexed[10:30] not in "".join(out.split()).lower().replace("\\x", "")
        assert find_secrets(text), text


def test_known_secrets_are_found_hex_encoded_and_at_a_base64_offset() -> None:
    webhook = "whsec-" + rand(12)
    redact = Redactor([webhook])
    for text in (webhook.encode().hex(), "+" + b64(webhook), "q" + b64("xy" + webhook)):
        assert webhook not in redact(text) and REDACTED in redact(text), text


# ---- GitHub's longer installation tokens and other formats -------------------------------


def _jwt_like(n: int) -> str:
    part = lambda k: "eyJ" + rand(k, ALPHABET + "-_")  # noqa: E731
    return f"{part(40)}.{part(n)}.{rand(86, ALPHABET + '-_')}"


@pytest.mark.parametrize(
    "token",
    [
        "ghs_" + rand(36),
        "ghs_" + rand(200),
        "ghs_" + rand(251),
        "ghs_12345_" + _jwt_like(380),  # the stateless ghs_APPID_JWT format, ~520 chars
        "ghs_" + rand(20) + "." + rand(30) + "_" + rand(40),
        "ghu_" + rand(60),
        "github_pat_" + rand(22) + "_" + rand(59),
    ],
    ids=["classic", "200", "255", "ghs_APPID_JWT", "dots", "ghu long", "fine-grained"],
)
def test_github_tokens_of_any_length_are_redacted_whole(token: str) -> None:
    for text in (
        f"git push https://x-access-token:{token}@github.com/o/r",
        f"Authorization: token {token}",
        f"the token is {token}.",
        f"{token}\nNext line",
    ):
        assert_hidden(text, token)
    # Folded by a narrow terminal.
    folded = "\n".join(token[i : i + 50] for i in range(0, len(token), 50))
    assert_hidden(f"printed:\n{folded}\ndone", token)


@pytest.mark.parametrize(
    "value",
    [
        "xoxb-" + "1234567890-" + "9876543210-" + rand(24).lower(),
        "SG." + rand(22) + "." + rand(43),
        "glpat-" + rand(20),
        "sk_live_" + rand(24),
        "1234567890:" + rand(35),  # Telegram bot
        "sk-proj-" + rand(20) + "T3BlbkFJ" + rand(20),  # OpenAI
        "https://hooks.slack.com/services/T" + rand(8) + "/B" + rand(8) + "/" + rand(24),
        "AccountKey=" + rand(86, ALPHABET + "+/") + "==",  # Azure storage
    ],
    ids=["slack", "sendgrid", "gitlab", "stripe", "telegram", "openai", "slack hook", "azure"],
)
def test_well_known_formats_are_redacted(value: str) -> None:
    body = value.split("=", 1)[-1] if value.startswith("AccountKey") else value
    assert_hidden(f"found {value} in the logs", body)


def test_an_npmrc_auth_token() -> None:
    value = "npm_" + rand(36)
    assert_hidden(f"//registry.npmjs.org/:_authToken={value}\n", value)
    uuid_token = secrets.token_hex(16)
    uuid_token = "-".join(
        (uuid_token[:8], uuid_token[8:12], uuid_token[12:16], uuid_token[16:20], uuid_token[20:])
    )
    assert_hidden(f"//registry.example.com/:_authToken={uuid_token}\n", uuid_token)


# ---- What must stay readable -------------------------------------------------------------

NOT_SECRETS = [
    "PASSWORD=",
    "API_KEY=changeme",
    "API_KEY=change-me",
    "SECRET_KEY=<your-secret-key>",
    "BETTER_AUTH_SECRET=your-secret-here",
    "TOKEN=${GITHUB_TOKEN}",
    "TOKEN=$GITHUB_TOKEN",
    "export GITHUB_TOKEN=$GITHUB_TOKEN  # read from the environment",
    "TOKEN=$(gh auth token)",
    "SECRET=xxx",
    "SECRET=xxxxxxxxxxxxxxxx",
    "API_KEY=sk-xxxxxxxxxxxxxxxxxxxx",
    "PASSWORD=********",
    "AUTH=true",
    "auth: required",
    "auth: none",
    "password: false",
    "PASSWORD=1234",
    "token: ~",
    '"password": null',
    '"password": ""',
    "max_tokens: 4096",
    "max_tokens=2000",
    '"input_tokens": 1523, "output_tokens": 211',
    "token_budget=2000",
    "GIT_AUTHOR_NAME=alice",
    "author: alice",
    "PWD=/home/alice/src",
    "OLDPWD=/tmp",
    "password = self.password",
    'token = os.environ["GITHUB_TOKEN"]',
    "api_key=api_key,",
    "secret: str = Field(default=None)",
    "token: str | None = None",
    "apiKey: apiKey,",
    "const token = await getToken();",
    "password=settings.db_password",
    "TOKEN_URL=https://example.com/oauth/token",
    "PASSWORD_FILE=/run/secrets/db_password",
    "SECRET_NAME=my-app-secret",
    "PASSWORD_MIN_LENGTH=12",
    "The token: it expired yesterday.",
    "Password: see the vault.",
    "secret_key_base: <%= ENV['SECRET_KEY_BASE'] %>",
    'password: "{{ vault_db_password }}"',
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "token: [REDACTED]",
    "API_KEY=dummy",
    "DB_PASSWORD=example",
    "token=placeholder",
    "postgres://user:password@localhost/db",
    "postgres://user:${DB_PASSWORD}@localhost/db",
    "postgres://user:<password>@localhost/db",
    "https://user@github.com/o/r.git",
    "http://localhost:8080/path?token=",
    "ssh: git@github.com:octo/calc.git",
    "keyboard=us",
    "key: value",
    "sha256: 3f1c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a393f1c2a9d8e7b6a5f4e3d2c1b",
    "commit 3f1c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
    "id: 0f8fad5b-d9cb-469f-a165-70867728950e",
    "if password == confirm:",
    "def check_token(token: str) -> bool:",
    "`roles check` reports secret-shaped lines; `TOKEN=value` is one of them.",
    "secrets: inherit",
    "JWT_SECRET=supersecret",
    "SESSION_SECRET=keyboard cat",
    "GITHUB_CLIENT_ID=Iv1.abc123",
    "STRIPE_SECRET_KEY=sk_test_...",
    "access_token_expires_at: 2024-01-01T00:00:00Z",
    "auth_token_ttl_seconds: 3600",
    "known_secrets: Iterable[str] = ()",
    "auth: httpx2.Auth",
    'password = getpass.getpass("Password: ")',
    "client = Client(api_key=settings.OPENAI_API_KEY, timeout=30)",
    '_LS32_PAT = "(?:{hex}:{hex}|{ipv4})".format(hex=_HEX_PAT, ipv4=_IPV4_PAT)',
    "postgres://user:a%20secret@db/app",
    "docker login --password-stdin ghcr.io",
    "gh auth login --with-token < token.txt",
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_text_that_only_mentions_secrets_is_untouched(text: str) -> None:
    assert Redactor()(text) == text
    assert find_secrets(text) == [], find_secrets(text)


def test_ordinary_prose_code_and_diffs_are_untouched() -> None:
    text = (
        "Fixed add() in calc.py; ran `python3 -m unittest -q` (3 tests, OK). See #12.\n"
        "diff --git a/calc.py b/calc.py\nindex 3f1c2a9..8e7b6a5 100644\n"
        "@@ -1,3 +1,4 @@\n+def mul(a, b):\n+    return a * b\n"
        "The model used 1523 input tokens; the auth flow is unchanged.\n"
        "Configure it with `WEBHOOK_SECRET` and `PRIVATE_KEY_PATH` (see the README).\n"
        + "data:image/png;base64,"
        + b64("just some ordinary bytes, nothing to see here at all")
        + "\n"
        + "digest "
        + "ab" * 32
        + "\n"
    )
    assert Redactor()(text) == text


# ---- Configuration and code as they are written ------------------------------------------

CONFIGURATION = """\
name: ci
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: actions/checkout@v4
        with:
          token: ${{ secrets.GITHUB_TOKEN }}
          persist-credentials: false
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
    secrets: inherit
services:
  db:
    environment:
      POSTGRES_PASSWORD: postgres
      POSTGRES_PASSWORD_FILE: /run/secrets/db_password
  app:
    environment:
      - DATABASE_URL=postgres://app:${POSTGRES_PASSWORD}@db:5432/app
      - AUTH_PROVIDER=github
      - AUTH_ENABLED=true
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef:
              name: db-credentials
              key: password
DATABASE_URL=postgresql://user:password@localhost:5432/mydb
SECRET_KEY=your-secret-key-here
NEXTAUTH_SECRET=
NEXTAUTH_URL=http://localhost:3000
OPENAI_API_KEY=sk-...
JWT_EXPIRES_IN=7d
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": env("DB_PW")}}
headers = {"Authorization": f"token {os.environ['GITHUB_TOKEN']}"}
curl -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/user
token = request.headers.get("X-Token")
user.set_password(form.cleaned_data["password1"])
<input type="password" name="password" placeholder="Password">
export const authOptions: NextAuthOptions = { secret: process.env.NEXTAUTH_SECRET };
    skip_auth: bool

    _use_sigv4: bool
CHARS_PER_TOKEN = 4
LOOKBACK_BLOCKS = 20
"""


def test_configuration_and_code_that_use_secrets_without_holding_one_are_untouched() -> None:
    assert find_secrets(CONFIGURATION) == []
    assert Redactor()(CONFIGURATION) == CONFIGURATION
    diff = "".join(f"+{line}\n" for line in CONFIGURATION.splitlines())
    assert find_secrets(diff) == []


def test_a_value_at_a_line_end_does_not_take_the_next_line_with_it() -> None:
    value = rand(32)
    for text, kept in [
        (f"BETTER_AUTH_SECRET={value}\nDEBUG=1\n", "\nDEBUG=1"),
        (f"password: {value}\nNext line of prose", "\nNext line"),
        (f"+STRIPE_API_KEY={value}\n+LOOKBACK_BLOCKS=20\n", "\n+LOOKBACK_BLOCKS=20"),
        (f'token = "{value}"\nurl = "https://example.com"', '\nurl = "https://example.com"'),
    ]:
        assert_hidden(text, value, keep=kept)
    # An empty value followed by the next setting holds no secret at all.
    env = "API_KEY=\nDATABASE_URL=postgres://app:${DB_PASSWORD}@db/app\nDEBUG=true\n"
    assert find_secrets(env) == []


def test_a_value_folded_over_lines_is_redacted_whole() -> None:
    value = rand(20) + rand(20) + rand(20)
    folded = "\n".join(value[i : i + 20] for i in range(0, len(value), 20))
    out = assert_hidden(f"BETTER_AUTH_SECRET={folded}\ndone", value, keep="\ndone")
    assert out == f"BETTER_AUTH_SECRET={REDACTED}\ndone"


def test_url_passwords_percent_encoded_and_command_line_flags() -> None:
    value = rand(16)
    assert_hidden(f"postgres://app:p%40ss{value}@db/app", value, keep="@db/app")
    assert_hidden(f"mysql --user app --password {value} --host db", value, keep="--host db")
    assert_hidden(f"docker login --password '{value}' ghcr.io", value, keep="ghcr.io")


def test_a_redactor_remembers_a_value_for_the_texts_that_follow() -> None:
    value = rand(24)
    redact = Redactor()
    assert value not in redact(f"export DB_PASSWORD='{value}'")
    later = redact(f"Connected with {value} as the password.")
    assert value not in later and REDACTED in later
    # Nothing names it here, so a scan that has not seen it before finds nothing.
    assert find_secrets(f"Connected with {value} as the password.") == []
