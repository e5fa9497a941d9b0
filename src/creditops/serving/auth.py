"""The one bearer-key check, shared by the scoring app and the endpoint router, and the routes that
answer without it."""

import hmac
from typing import Final

DOCS_PATHS: Final = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
DOCS_STATIC: Final = "/static-offline-docs/"
"""Where the offline Swagger UI and ReDoc pages load their scripts and styles from."""


def expected_authorization(key: str | None) -> bytes | None:
    """The `Authorization` header value a request must carry; None when no key is required."""
    return None if key is None else f"Bearer {key}".encode()


def authorized(headers: dict[bytes, bytes], expected: bytes | None) -> bool:
    """Whether the request's `Authorization` header matches, compared in constant time."""
    return expected is None or hmac.compare_digest(headers.get(b"authorization", b""), expected)


def public_docs(method: str, path: str) -> bool:
    """Whether the request reads the API's documentation (GET or HEAD of /docs, /redoc, /openapi.json and
    their scripts), which answers without the key so that a browser can open it.

    The documentation describes the API (routes, columns, limits, a synthetic sample row), not the model
    or its data: /version, which names the model, stays behind the key, and so does every route that
    scores. Taking the key in the query string instead was refused: a URL lands in browser history,
    proxy and access logs and Referer headers. The docs' "Authorize" button sends the key as a bearer
    header when one tries a route from the page."""
    return method in ("GET", "HEAD") and (path in DOCS_PATHS or path.startswith(DOCS_STATIC))
