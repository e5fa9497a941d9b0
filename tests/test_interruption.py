"""Ctrl-C and SIGTERM recorded, honoured at checks, and never lost."""

import os
import signal

import pytest

from creditops import interruption
from creditops.interruption import Interrupted, check, cooperative, requested


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_in_the_block_is_recorded_and_raised_at_the_next_check(stop: signal.Signals) -> None:
    before = signal.getsignal(stop)
    with cooperative():
        check()
        os.kill(os.getpid(), stop)
        assert requested() == stop.name
        with pytest.raises(Interrupted, match=stop.name):
            check()
    assert signal.getsignal(stop) == before
    assert requested() is None


def test_the_first_signal_is_the_one_named() -> None:
    with cooperative():
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        with pytest.raises(Interrupted, match="SIGTERM"):
            check()


def test_a_stop_after_the_last_check_is_delivered_when_the_block_ends() -> None:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), cooperative():
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert requested() is None


def test_a_stop_already_honoured_is_not_delivered_twice() -> None:
    with cooperative():
        os.kill(os.getpid(), signal.SIGINT)
        with pytest.raises(Interrupted):
            check()
    assert requested() is None


def test_an_inherited_ignored_sigint_still_stops_the_block_and_stays_ignored_after() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with cooperative():
            os.kill(os.getpid(), signal.SIGINT)
            assert requested() == "SIGINT"
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_checks_outside_a_block_never_raise() -> None:
    check()
    assert interruption.requested() is None
