"""The credentials the setup page stored, and the settings source that reads them back.

The setup page registers the GitHub App through GitHub's manifest flow and keeps what
GitHub hands back in the data directory: `github-app.json` (the App id, the webhook
secret, the OAuth client, the model key, and the path of the key file) and
`github-app.pem` (the App's private key). Both are written atomically with mode 0600, so
neither a crash nor another local user ever sees half a file or a secret.

`StoredAppSettings` is the last settings source: the environment and `.env` win, value by
value, and the file only fills what they leave unset. So `rolecall serve` restarts with
the App it registered, and an operator can still override any value.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsError

CREDENTIALS_FILE = "github-app.json"
PRIVATE_KEY_FILE = "github-app.pem"
# What the file may hold, by the environment variable each value stands for.
STORED_NAMES = frozenset(
    {
        "APP_ID",
        "PRIVATE_KEY_PATH",
        "WEBHOOK_SECRET",
        "GITHUB_CLIENT_ID",
        "GITHUB_CLIENT_SECRET",
        "ANTHROPIC_API_KEY",
    }
)
DATA_DIR_NAME = "ROLECALL_DATA_DIR"


class CredentialStore:
    """`<data_dir>/github-app.json` and `github-app.pem`: read, and updated atomically."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / CREDENTIALS_FILE
        self.key_path = data_dir / PRIVATE_KEY_FILE
        self._lock = threading.Lock()

    def read(self) -> dict[str, str]:
        """The stored values by variable name; empty when nothing was stored."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SettingsError(f"{self.path}: cannot be read ({exc.strerror})") from None
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            # Its text is secrets: named, never shown.
            raise SettingsError(
                f"{self.path}: not an object of text values; fix or remove it (the setup "
                "page writes it while no GitHub App is configured)"
            )
        return {name: value for name, value in data.items() if name in STORED_NAMES and value}

    def update(self, values: Mapping[str, str]) -> None:
        """Merge `values` into the file (the newest file replaces the old one whole)."""
        unknown = set(values) - STORED_NAMES
        if unknown:
            raise ValueError(f"not stored in {CREDENTIALS_FILE}: {sorted(unknown)}")
        with self._lock:
            merged = {**self.read(), **values}
            text = json.dumps(merged, indent=2, sort_keys=True) + "\n"
            write_private_file(self.path, text.encode())

    def store_private_key(self, pem: str) -> Path:
        """The App's private key in its own file (mode 0600); its path."""
        write_private_file(self.key_path, pem.encode())
        return self.key_path


def write_private_file(path: Path, data: bytes) -> None:
    """`data` at `path`, mode 0600, atomically: a reader sees the old file or the new one.

    Written beside it under a random name (created 0600, never following a link), synced,
    then renamed over it; the directory is synced so the rename survives a crash.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(temporary, flags, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class StoredAppSettings(PydanticBaseSettingsSource):
    """The setup page's stored values, beneath every other settings source.

    Listed last, it sees what the sources before it found (`current_state`, keyed by
    variable name): the data directory, and which values they already set. It reads the
    file in that data directory (or in `default_data_dir()` when none is set).
    """

    def __init__(
        self, settings_cls: type[BaseSettings], default_data_dir: Callable[[], Path]
    ) -> None:
        super().__init__(settings_cls)
        self._default_data_dir = default_data_dir

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        # Unused: `__call__` reads the whole file at once.
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        configured = self.current_state.get(DATA_DIR_NAME)
        data_dir = Path(configured) if configured else self._default_data_dir()
        return dict(CredentialStore(data_dir).read())
