"""GitHub App authentication: the App's JWT, installation tokens, and what a token may do.

GitHub's rules, reproduced: a token is issued only for an RS256 JWT signed by the
App's key, with a right `iss`, unexpired, `iat` not in the future beyond clock
skew and `exp` at most ten minutes after `iat`. A token reaches only its
installation's repositories (or the subset it was scoped to): others are a 404,
and a missing permission is a 403 "Resource not accessible by integration".
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .errors import ApiError, bad_credentials, not_accessible, not_found
from .records import Repo, Token, UserToken, utcnow
from .state import State

CLOCK_SKEW = 60
JWT_MAX_LIFETIME = 600
_RANK = {"read": 1, "write": 2, "admin": 3}
_ALPHABET = string.ascii_letters + string.digits

# "user": a user access token (`ghu_…`) from the OAuth web flow (standins.github.oauth).
TokenKind = Literal["jwt", "installation", "user", "none", "invalid"]


@dataclass(frozen=True)
class Caller:
    """Who a request is from, as far as its `Authorization` header says."""

    kind: TokenKind
    token: Token | None = None
    jwt_error: str | None = None
    user_token: UserToken | None = None


def _jwt_error(message: str) -> ApiError:
    return ApiError(401, message)


class Auth:
    def __init__(self, state: State, public_key: RSAPublicKey) -> None:
        self.state = state
        self.public_key = public_key

    # reading credentials -----------------------------------------------------------

    def identify(self, authorization: str | None) -> Caller:
        """Classify `Authorization: token X` / `Bearer X` (GitHub accepts both schemes)."""
        if not authorization:
            return Caller("none")
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() not in ("token", "bearer") or not credential:
            return Caller("invalid")
        if credential.count(".") == 2:
            error = self.jwt_problem(credential)
            return Caller("jwt", jwt_error=error)
        with self.state.lock:
            token = self.state.tokens.get(credential)
            user_token = self.state.user_tokens.get(credential)
        if user_token is not None and user_token.expires_at > datetime.now(UTC):
            return Caller("user", user_token=user_token)
        if token is None or token.expires_at <= datetime.now(UTC):
            return Caller("invalid")
        return Caller("installation", token=token)

    def jwt_problem(self, credential: str) -> str | None:
        """None for a JWT GitHub would accept from this App, else GitHub's complaint."""
        try:
            # Signature only: the claims are checked below with GitHub's rules (PyJWT
            # would reject an integer `iss`, which GitHub accepts).
            raw = jwt.api_jws.PyJWS().decode(credential, self.public_key, algorithms=["RS256"])
            claims: Any = json.loads(raw)
        except (jwt.PyJWTError, ValueError):
            return "A JSON web token could not be decoded"
        if not isinstance(claims, dict):
            return "A JSON web token could not be decoded"
        now = int(utcnow().timestamp())
        iss, iat, exp = claims.get("iss"), claims.get("iat"), claims.get("exp")
        if str(iss) != str(self.state.app.id):
            return "A JSON web token could not be decoded"
        if not isinstance(iat, int | float) or iat > now + CLOCK_SKEW:
            return (
                "'Issued at' claim ('iat') must be an Integer representing the time that "
                "the assertion was issued"
            )
        if not isinstance(exp, int | float) or exp <= now:
            return (
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires"
            )
        if exp - iat > JWT_MAX_LIFETIME:
            return "'Expiration time' claim ('exp') is too far in the future"
        return None

    def basic_token(self, authorization: str | None) -> Token | None:
        """The token in git's `Basic base64(x-access-token:TOKEN)`, if valid and unexpired."""
        if not authorization or not authorization.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, _, password = decoded.partition(":")
        with self.state.lock:
            token = self.state.tokens.get(password)
        if token is None or token.expires_at <= datetime.now(UTC):
            return None
        return token

    # requiring credentials ---------------------------------------------------------

    @staticmethod
    def require_jwt(caller: Caller) -> None:
        if caller.kind == "jwt" and caller.jwt_error is None:
            return
        if caller.kind == "jwt" and caller.jwt_error:
            raise _jwt_error(caller.jwt_error)
        if caller.kind == "none":
            raise ApiError(
                401,
                "A JSON web token could not be decoded",
            )
        raise _jwt_error("A JSON web token could not be decoded")

    @staticmethod
    def require_token(caller: Caller) -> Token:
        if caller.kind == "installation" and caller.token is not None:
            return caller.token
        if caller.kind == "none":
            raise ApiError(401, "Requires authentication")
        raise bad_credentials()

    @staticmethod
    def require_user(caller: Caller) -> UserToken:
        """A user access token; an installation token is refused as GitHub refuses it."""
        if caller.kind == "user" and caller.user_token is not None:
            return caller.user_token
        if caller.kind == "none":
            raise ApiError(401, "Requires authentication")
        if caller.kind in ("installation", "jwt") and caller.jwt_error is None:
            raise not_accessible()
        raise bad_credentials()

    def require_repo(
        self, token: Token, repo: Repo, permission: str | tuple[str, ...], level: str
    ) -> None:
        """404 when the token cannot see the repository, 403 when it lacks the permission.

        `permission` may name alternatives (commenting on a PR takes issues or
        pull_requests write, as on GitHub).
        """
        if not self.can_see(token, repo):
            raise not_found()
        names = (permission,) if isinstance(permission, str) else permission
        if not any(self.has(token, name, level) for name in names):
            raise not_accessible()

    @staticmethod
    def can_see(token: Token, repo: Repo) -> bool:
        if repo.installation_id != token.installation_id:
            return False
        return token.repo_ids is None or repo.id in token.repo_ids

    @staticmethod
    def has(token: Token, name: str, level: str) -> bool:
        if name == "metadata" and level == "read":
            return True
        granted = token.permissions.get(name)
        return granted is not None and _RANK[granted] >= _RANK[level]

    # issuing tokens ----------------------------------------------------------------

    def issue(
        self,
        installation_id: int,
        lifetime: float,
        *,
        repo_ids: frozenset[int] | None = None,
        permissions: dict[str, str] | None = None,
    ) -> Token:
        """A fresh installation token, scoped like `POST .../access_tokens` scopes it."""
        granted = dict(self.state.app.permissions)
        if permissions:
            for name, level in permissions.items():
                if name not in granted or _RANK.get(level, 99) > _RANK[granted[name]]:
                    raise ApiError(
                        422, "The permissions requested are not granted to this installation."
                    )
            granted = dict(permissions)
            granted.setdefault("metadata", "read")
        token = Token(
            token="ghs_" + "".join(secrets.choice(_ALPHABET) for _ in range(36)),
            installation_id=installation_id,
            # Precise, not second-rounded: a 1 s token must live a full second.
            expires_at=datetime.now(UTC) + timedelta(seconds=lifetime),
            permissions=granted,
            repo_ids=repo_ids,
        )
        with self.state.lock:
            self.state.tokens[token.token] = token
        return token
