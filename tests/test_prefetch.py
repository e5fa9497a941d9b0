import sys
import threading

import pytest

from creditops.prefetch import import_modules, prefetched


def test_the_work_runs_in_another_thread_and_the_block_waits_for_it() -> None:
    started, release, seen = threading.Event(), threading.Event(), []

    def work() -> None:
        started.set()
        release.wait(5)
        seen.append(threading.get_ident())

    with prefetched(work):
        assert started.wait(5)  # it runs while the block does
        assert seen == []
        release.set()
    assert seen
    assert seen[0] != threading.get_ident()


def test_a_failing_work_is_dropped_and_the_block_still_raises_its_own_errors() -> None:
    def work() -> None:
        raise RuntimeError("the main thread will do this again")

    with prefetched(work):
        pass
    with pytest.raises(KeyError), prefetched(lambda: None):
        raise KeyError("mine")


def test_modules_are_imported_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    import_modules("colorsys")
    assert "colorsys" in sys.modules
    with pytest.raises(ModuleNotFoundError):
        import_modules("creditops.no_such_module")
