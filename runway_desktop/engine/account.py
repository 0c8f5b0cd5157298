"""Check an API key before it is saved: one `GET /v2/me` against the chosen base URL."""

from __future__ import annotations

from runway_desktop import api


async def check_api_key(
    api_key: str, base_url: str, *, request_timeout: float = 20.0, proxy: str | None = None
) -> api.Account:
    """The account behind `api_key`, or a typed api error saying why the key can't be used."""
    key = api_key.strip()
    if not key.startswith("afk_"):
        raise api.InvalidRequestError(
            "That doesn't look like an apiframe API key: keys start with “afk_”. "
            "Copy it again from your apiframe dashboard."
        )
    async with api.ApiClient(key, base_url, timeout=request_timeout, proxy=proxy) as client:
        return await client.me()
