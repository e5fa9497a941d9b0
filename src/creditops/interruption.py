"""Ctrl-C and SIGTERM as a request to stop, honoured where stopping is safe.

A signal handler that raises fires at whatever bytecode the process is in: inside a lock, an HTTP
client's `finally` or a thread pool's bookkeeping, which it leaves half-done. Here the handler only
records the signal; the loops of a change to live traffic call `check()` between requests and steps,
so the change is undone from a known point.

The handler is installed even where the signal was inherited as ignored: a shell runs background jobs
with SIGINT ignored, and a rollout that a person stops with `kill -INT` must still stop and restore.
"""

import contextlib
import signal
import threading
from collections.abc import Iterator

STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A stop was asked for (SIGINT or SIGTERM); raised at a point where the change can be undone."""


_received: list[signal.Signals] = []
_consumed: list[bool] = []


def requested() -> str | None:
    """The name of the signal that asked this process to stop, if one has."""
    return _received[0].name if _received else None


def check() -> None:
    """Raise `Interrupted` when a stop was asked for; nothing otherwise."""
    if _received:
        _consumed.append(True)
        raise Interrupted(_received[0].name)


@contextlib.contextmanager
def cooperative() -> Iterator[None]:
    """For the block, SIGINT and SIGTERM only record that a stop was asked for (see `check`).

    A stop asked for after the last check is delivered as the signal itself when the block ends, so
    the process still stops once its change is complete. Off the main thread, where Python cannot
    install handlers, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def record(signum: int, frame: object) -> None:
        if not _received:
            _received.append(signal.Signals(signum))

    _received.clear()
    _consumed.clear()
    previous = {number: signal.signal(number, record) for number in STOPPING_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        pending = _received[0] if _received and not _consumed else None
        _received.clear()
        _consumed.clear()
        if pending is not None:
            signal.raise_signal(pending)
