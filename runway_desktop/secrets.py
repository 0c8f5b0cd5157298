"""The API key: only in the OS keyring (or `APIFRAME_API_KEY` for scripts); never in files or logs.
"""

from __future__ import annotations

import os

import keyring
import keyring.errors

API_KEY_ENV = "APIFRAME_API_KEY"
SERVICE = "runway-desktop"
ACCOUNT = "apiframe-api-key"


class KeyStoreError(Exception):
    """The OS keyring can't be used; `message` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _unavailable(exc: Exception) -> KeyStoreError:
    return KeyStoreError(
        "Can't reach the system keyring, where your API key is kept "
        f"({type(exc).__name__}). On Linux, install and unlock a Secret Service such as "
        f"GNOME Keyring or KWallet; for scripts, set {API_KEY_ENV} instead."
    )


def api_key_from_env() -> str | None:
    value = os.environ.get(API_KEY_ENV, "").strip()
    return value or None


def load_api_key() -> str | None:
    """The key for this session: the environment first (scripts), else the keyring."""
    return api_key_from_env() or stored_api_key()


def stored_api_key() -> str | None:
    try:
        return keyring.get_password(SERVICE, ACCOUNT)
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        raise _unavailable(exc) from None


def store_api_key(api_key: str) -> None:
    try:
        keyring.set_password(SERVICE, ACCOUNT, api_key.strip())
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        raise _unavailable(exc) from None


def delete_api_key() -> None:
    try:
        keyring.delete_password(SERVICE, ACCOUNT)
    except keyring.errors.PasswordDeleteError:
        pass  # nothing stored: already the state the person asked for
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        raise _unavailable(exc) from None


def mask(api_key: str) -> str:
    """`afk_…9f2c`: enough to recognise a key, never enough to use it."""
    tail = api_key[-4:] if len(api_key) > 12 else ""
    return f"afk_…{tail}"
