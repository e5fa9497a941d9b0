"""How long operations report progress: a callable that shows one line to a person (or to nobody)."""

from collections.abc import Callable

Say = Callable[[str], None]


def silent(message: str) -> None:
    """A Say that shows nothing."""
