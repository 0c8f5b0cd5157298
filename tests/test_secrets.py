"""The API key in a real Secret Service (gnome-keyring on a private D-Bus session)."""

from __future__ import annotations

import sys

import keyring
import pytest
from keyring.backends import fail

from runway_desktop import secrets


def test_round_trip_through_the_real_secret_service(keyring_backend: object) -> None:
    assert secrets.stored_api_key() is None
    secrets.store_api_key("  afk_live_0123456789abcdef  ")
    assert secrets.stored_api_key() == "afk_live_0123456789abcdef"
    assert keyring.get_keyring().__class__.__module__ == "keyring.backends.SecretService"
    secrets.delete_api_key()
    assert secrets.stored_api_key() is None
    secrets.delete_api_key()  # deleting nothing is fine


def test_the_environment_wins_for_scripts(keyring_backend: object,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    secrets.store_api_key("afk_from_keyring_000")
    monkeypatch.setenv(secrets.API_KEY_ENV, "afk_from_env_0000")
    assert secrets.load_api_key() == "afk_from_env_0000"
    monkeypatch.delenv(secrets.API_KEY_ENV)
    assert secrets.load_api_key() == "afk_from_keyring_000"


def test_no_keyring_is_explained_in_words() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(secrets.KeyStoreError) as info:
            secrets.store_api_key("afk_x_123456789")
    finally:
        keyring.set_keyring(previous)
    assert "keyring" in info.value.message
    assert secrets.API_KEY_ENV in info.value.message
    assert "afk_x" not in info.value.message


def test_mask_never_shows_enough_to_use() -> None:
    assert secrets.mask("afk_live_0123456789abcdef") == "afk_…cdef"
    assert "live" not in secrets.mask("afk_live_0123456789abcdef")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Secret Service is Linux's")
def test_a_secret_service_without_a_session_bus_is_explained_in_words(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The frozen app names the Secret Service backend itself; with no session D-Bus (started
    outside a desktop session) keyring let secretstorage's own error through, and opening
    Settings failed with "Something unexpected went wrong"."""
    from keyring.backends import SecretService

    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(SecretService.Keyring())
    try:
        for call in (secrets.stored_api_key, lambda: secrets.store_api_key("afk_x"),
                     secrets.delete_api_key):
            with pytest.raises(secrets.KeyStoreError) as raised:
                call()
            assert "Can't reach the system keyring" in raised.value.message
            assert "APIFRAME_API_KEY" in raised.value.message
    finally:
        keyring.set_keyring(previous)
