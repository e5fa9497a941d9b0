"""Work a command will need later, begun in a background thread while the main thread runs C code that
releases the GIL (reading Parquet, checking columns, training LightGBM): imports and opening a store
then cost the command no wall time."""

import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress


@contextmanager
def prefetched(work: Callable[[], object]) -> Iterator[None]:
    """Run `work` in a thread for the length of the block, then wait for it. Its errors are dropped: the main
    thread does the same work when it needs it, and reports them as it would without this."""

    def attempt() -> None:
        with suppress(Exception):
            work()

    thread = threading.Thread(target=attempt, name="creditops-prefetch")
    thread.start()
    try:
        yield
    finally:
        thread.join()


def import_modules(*names: str) -> None:
    """Import each module by name (for `prefetched`)."""
    for name in names:
        importlib.import_module(name)
