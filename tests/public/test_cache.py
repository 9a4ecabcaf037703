"""The public pages' cache under many threads: one computes a missing or expired value, the
others wait for it or get the expired one for a bounded while (bot.cache)."""

from __future__ import annotations

import threading

import pytest

from bot.cache import TTLCache

SAFETY = 10  # seconds before a stuck test fails instead of hanging; never a speed limit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Waiters:
    """An event factory that counts the threads waiting on the events it made."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()
        waiters = self

        class CountingEvent(threading.Event):
            def wait(self, timeout: float | None = None) -> bool:
                with waiters.changed:
                    waiters.count += 1
                    waiters.changed.notify_all()
                return super().wait(timeout)

        self.event = CountingEvent

    def until(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.count >= count, SAFETY)


class Slow:
    """A computation that starts, then waits for the test to let it finish."""

    def __init__(self, value: str, fail: bool = False) -> None:
        self.value = value
        self.fail = fail
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> str:
        self.calls += 1
        self.started.set()
        assert self.release.wait(SAFETY)
        if self.fail:
            raise RuntimeError("the database went away")
        return self.value


def in_thread(cache: TTLCache[str], compute) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []

    def run() -> None:
        try:
            out.append(cache.get_or_compute("page", compute))
        except Exception as error:  # noqa: BLE001 - the test looks at it
            out.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def never() -> str:
    raise AssertionError("a second thread computed the same page")


def test_a_missing_page_is_computed_once_while_the_others_wait():
    waiters = Waiters()
    cache: TTLCache[str] = TTLCache(30, clock=Clock(), event=waiters.event)
    first = Slow("page v1")
    computing, first_out = in_thread(cache, first)
    assert first.started.wait(SAFETY)
    others = [in_thread(cache, never) for _ in range(5)]
    waiters.until(5)
    first.release.set()
    for thread, _ in [(computing, first_out), *others]:
        thread.join(SAFETY)
    assert first.calls == 1
    assert first_out == ["page v1"]
    assert [out for _, out in others] == [["page v1"]] * 5
    assert cache.get_or_compute("page", never) == "page v1"


def test_an_expired_page_is_served_stale_while_one_thread_refreshes_it():
    clock = Clock()
    cache: TTLCache[str] = TTLCache(30, clock=clock, stale_seconds=20)
    cache.put("page", "page v1")
    clock.now += 31  # expired 1 s ago
    refresh = Slow("page v2")
    refreshing, out = in_thread(cache, refresh)
    assert refresh.started.wait(SAFETY)
    # Everyone else gets the old page at once, and nobody else renders it.
    assert [cache.get_or_compute("page", never) for _ in range(10)] == ["page v1"] * 10
    refresh.release.set()
    refreshing.join(SAFETY)
    assert out == ["page v2"]
    assert cache.get_or_compute("page", never) == "page v2"
    assert refresh.calls == 1


def test_staleness_is_bounded_past_it_readers_wait_for_the_new_page():
    clock = Clock()
    waiters = Waiters()
    cache: TTLCache[str] = TTLCache(30, clock=clock, stale_seconds=20, event=waiters.event)
    cache.put("page", "page v1")
    clock.now += 30 + 21  # expired longer ago than the 20 s it may be served stale
    refresh = Slow("page v2")
    refreshing, _ = in_thread(cache, refresh)
    assert refresh.started.wait(SAFETY)
    reader, out = in_thread(cache, never)
    waiters.until(1)
    assert out == []  # waiting, not handed the too-old page
    refresh.release.set()
    for thread in (refreshing, reader):
        thread.join(SAFETY)
    assert out == ["page v2"]


def test_when_the_computing_thread_fails_a_waiting_one_computes():
    waiters = Waiters()
    cache: TTLCache[str] = TTLCache(30, clock=Clock(), event=waiters.event)
    failing = Slow("never kept", fail=True)
    first, first_out = in_thread(cache, failing)
    assert failing.started.wait(SAFETY)
    second = Slow("page v1")
    second.release.set()
    waiting, out = in_thread(cache, second)
    waiters.until(1)
    failing.release.set()
    for thread in (first, waiting):
        thread.join(SAFETY)
    assert isinstance(first_out[0], RuntimeError)
    assert out == ["page v1"] and second.calls == 1
    assert cache.get_or_compute("page", never) == "page v1"


@pytest.mark.parametrize("seconds", [0, -1])
def test_a_cache_of_no_seconds_computes_every_time(seconds):
    cache: TTLCache[str] = TTLCache(seconds)
    values = iter(["a", "b"])
    assert cache.get_or_compute("page", lambda: next(values)) == "a"
    assert cache.get_or_compute("page", lambda: next(values)) == "b"


def test_refresh_in_the_background_nobody_waits_for_an_expired_value():
    """get_or_refresh (the staff overview): the expired value is returned at once, its
    successor computed once, by the task handed to ``spawn``; until it lands the old one stays."""
    clock = Clock()
    cache: TTLCache[str] = TTLCache(30, clock=clock, stale_seconds=20)
    tasks: list = []
    assert cache.get_or_refresh("figures", lambda: "v1", tasks.append) == "v1"  # computed
    assert tasks == []
    clock.now += 31
    values = [cache.get_or_refresh("figures", never, tasks.append, lambda: "v2") for _ in range(5)]
    assert values == ["v1"] * 5 and len(tasks) == 1  # one refresh, handed off
    tasks.pop()()
    assert cache.get_or_refresh("figures", never, tasks.append) == "v2" and tasks == []
    clock.now += 30 + 21  # too old to show: computed before answering, as when missing
    assert cache.get_or_refresh("figures", lambda: "v3", tasks.append) == "v3" and tasks == []


def test_a_failed_background_refresh_lets_the_next_reader_try_again():
    clock = Clock()
    cache: TTLCache[str] = TTLCache(30, clock=clock, stale_seconds=20)
    cache.put("figures", "v1")
    clock.now += 31
    tasks: list = []

    def broken() -> str:
        raise RuntimeError("the database went away")

    assert cache.get_or_refresh("figures", never, tasks.append, broken) == "v1"
    with pytest.raises(RuntimeError):
        tasks.pop()()
    assert cache.get_or_refresh("figures", never, tasks.append, lambda: "v2") == "v1"
    tasks.pop()()
    assert cache.get_or_refresh("figures", never, tasks.append) == "v2"
