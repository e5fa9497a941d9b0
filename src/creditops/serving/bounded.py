"""Connection limits uvicorn does not enforce with httptools: head size and head/body read deadlines.

httptools gathers a header's whole value before reporting it, so a 100 MB header would be held in
memory before any check could run; a client that sends a request head one byte at a time would hold
its connection forever. Here the bytes of a request head are counted as they arrive (431 past the
limit), and a head or body that takes too long ends the connection (408).
"""

import asyncio
from dataclasses import dataclass

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may cost: head bytes, seconds to send a head or a body, idle seconds."""

    max_head_bytes: int = 32_768
    head_seconds: float = 10.0
    body_seconds: float = 30.0
    idle_seconds: int = 5
    max_connections: int = 1_000


def bounded_protocol(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with `limits` enforced (uvicorn takes a protocol class)."""

    class BoundedProtocol(HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.head_bytes = self.head_size = 0
            self.in_head = True
            self.deadline: asyncio.TimerHandle | None = None
            self._arm(limits.head_seconds)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self.in_head:
                self.head_bytes += len(data)
            self._unset_keepalive_if_required()
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                return  # no protocol upgrade is offered: the request is answered as plain HTTP
            except httptools.HttpParserError:
                if self.head_size > limits.max_head_bytes:
                    self._refuse(431, f"request head over {limits.max_head_bytes} bytes")
                else:
                    self._refuse(400, "invalid HTTP request")
                return
            if self.in_head and self.head_bytes > limits.max_head_bytes:
                self._refuse(431, f"request head over {limits.max_head_bytes} bytes")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.head_size = 0
            if not self.in_head:
                self.in_head, self.head_bytes = True, 0
                self._arm(limits.head_seconds)

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            super().on_header(name, value)

        def _count(self, size: int) -> None:
            """The exact size of the head so far; past the limit the parser stops (and the client gets a 431)."""
            self.head_size += size
            if self.head_size > limits.max_head_bytes:
                raise ValueError("request head too large")

        def on_headers_complete(self) -> None:
            self.in_head = False
            self._arm(limits.body_seconds)
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self.deadline = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if getattr(self, "deadline", None) is not None:
                self.deadline.cancel()  # type: ignore[union-attr]
                self.deadline = None

        def _too_slow(self) -> None:
            self.deadline = None
            if self.in_head:
                self._refuse(408, "request head not received in time")
            elif not self.transport.is_closing():
                self.transport.close()  # the application sees a disconnect and answers no one

        def _refuse(self, status: int, message: str) -> None:
            self._disarm()
            if self.transport.is_closing():
                return
            reason = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
            body = f'{{"error": "{message}"}}'.encode()
            self.transport.write(
                b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                b"connection: close\r\n\r\n%s" % (status, reason, len(body), body)
            )
            self.transport.close()

    return BoundedProtocol
