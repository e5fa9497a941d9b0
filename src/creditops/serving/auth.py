"""The one bearer-key check, shared by the scoring app and the endpoint router."""

import hmac


def expected_authorization(key: str | None) -> bytes | None:
    """The `Authorization` header value a request must carry; None when no key is required."""
    return None if key is None else f"Bearer {key}".encode()


def authorized(headers: dict[bytes, bytes], expected: bytes | None) -> bool:
    """Whether the request's `Authorization` header matches, compared in constant time."""
    return expected is None or hmac.compare_digest(headers.get(b"authorization", b""), expected)
