"""The API key: only in the OS keyring (or `APIFRAME_API_KEY` for scripts); never in files or logs.
"""

from __future__ import annotations

import os
import sys

import keyring
import keyring.backend
import keyring.core
import keyring.errors

from runway_desktop.api.redact import remember_secret

API_KEY_ENV = "APIFRAME_API_KEY"
SERVICE = "runway-desktop"
ACCOUNT = "apiframe-api-key"


class KeyStoreError(Exception):
    """The OS keyring can't be used; `message` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def os_backend() -> keyring.backend.KeyringBackend | None:
    """This OS's own keyring: Secret Service, the macOS Keychain or Windows Credential Manager."""
    if sys.platform.startswith("linux"):
        from keyring.backends import SecretService

        return SecretService.Keyring()
    if sys.platform == "darwin":
        from keyring.backends import macOS

        return macOS.Keyring()
    if sys.platform == "win32":
        from keyring.backends import Windows

        return Windows.WinVaultKeyring()
    return None


def _choose_backend() -> None:
    """In a frozen app (PyInstaller), name the OS backend instead of letting keyring discover one.

    keyring finds backends through package entry points, which a bundle may not carry; without
    them it silently falls back to the `fail` backend. From a source tree keyring chooses as
    usual, and `PYTHON_KEYRING_BACKEND` still wins everywhere.
    """
    if not getattr(sys, "frozen", False) or os.environ.get("PYTHON_KEYRING_BACKEND"):
        return
    backend = os_backend()
    if backend is not None:
        keyring.core.set_keyring(backend)


_choose_backend()


def _keyring_failures() -> tuple[type[Exception], ...]:
    """What a keyring call raises when the keyring can't be used. keyring's Secret Service
    backend lets secretstorage's own errors through (no session D-Bus: the frozen app names
    that backend itself, so it met one and Settings failed with an unexpected error)."""
    failures: tuple[type[Exception], ...] = (keyring.errors.KeyringError, RuntimeError)
    try:
        from secretstorage.exceptions import SecretStorageException
    except ImportError:  # not Linux
        return failures
    return (*failures, SecretStorageException)


_FAILURES = _keyring_failures()


def _unavailable(exc: Exception) -> KeyStoreError:
    return KeyStoreError(
        "Can't reach the system keyring, where your API key is kept "
        f"({type(exc).__name__}). On Linux, install and unlock a Secret Service such as "
        f"GNOME Keyring or KWallet; for scripts, set {API_KEY_ENV} instead."
    )


def api_key_from_env() -> str | None:
    value = os.environ.get(API_KEY_ENV, "").strip()
    remember_secret(value)  # from now on redacted from every log line and server message
    return value or None


# A key used until the app quits where no keyring can keep it (Linux without a Secret
# Service): in this process's memory only, never written anywhere.
_session_key: str | None = None


def use_until_quit(api_key: str | None) -> None:
    """Use `api_key` until the app quits, kept only in memory (None: forget it)."""
    global _session_key
    _session_key = api_key.strip() if api_key and api_key.strip() else None
    remember_secret(_session_key)


def load_api_key() -> str | None:
    """The key for this session: the environment first (scripts), then one given for this
    session only, else the keyring."""
    return api_key_from_env() or _session_key or stored_api_key()


def stored_api_key() -> str | None:
    try:
        key = keyring.get_password(SERVICE, ACCOUNT)
    except _FAILURES as exc:
        raise _unavailable(exc) from None
    remember_secret(key)
    return key


def store_api_key(api_key: str) -> None:
    remember_secret(api_key)
    try:
        keyring.set_password(SERVICE, ACCOUNT, api_key.strip())
    except _FAILURES as exc:
        raise _unavailable(exc) from None
    use_until_quit(None)  # the keyring has it now: that one is used


def delete_api_key() -> None:
    use_until_quit(None)  # removed means no key at all, not the session's
    try:
        keyring.delete_password(SERVICE, ACCOUNT)
    except keyring.errors.PasswordDeleteError:
        pass  # nothing stored: already the state the person asked for
    except _FAILURES as exc:
        raise _unavailable(exc) from None


def mask(api_key: str) -> str:
    """`afk_…9f2c`: enough to recognise a key, never enough to use it."""
    tail = api_key[-4:] if len(api_key) > 12 else ""
    return f"afk_…{tail}"
