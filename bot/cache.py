"""A time-limited cache in each worker process: the public pages (and the counts behind
them), and the staff overview's figures.

``get_or_compute`` is what the pages use: a fresh value is returned at once; a missing one is
computed by one thread only while the others asking for the same key wait for it
(single-flight); an expired one is recomputed by the first thread that asks while the others
keep getting the old value (stale-while-revalidate), but never for longer than
``stale_seconds`` past its expiry: after that they wait for the new one like for a missing one.
``get_or_refresh`` (the overview's figures, seconds to count on a large table) recomputes an
expired value in the background, so not even the first thread waits for it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """Keep values for ``seconds``; at most ``size`` keys, the oldest dropped first; an
    expired value may still be served for ``stale_seconds`` (default: ``seconds``) while one
    thread computes its successor."""

    def __init__(
        self,
        seconds: float,
        size: int = 2000,
        clock: Callable[[], float] = time.monotonic,
        stale_seconds: float | None = None,
        event: Callable[[], threading.Event] = threading.Event,
    ):
        self.seconds = seconds
        self.size = size
        self.clock = clock
        self.stale_seconds = seconds if stale_seconds is None else stale_seconds
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._flights: dict[str, threading.Event] = {}
        self._event = event  # what waiters wait on (tests count them)
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        """Return the value kept for ``key``, or None when absent or expired."""
        if self.seconds <= 0:
            return None
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] <= self.clock():
                return None
            return item[1]

    def put(self, key: str, value: V) -> None:
        """Keep ``value`` for ``key`` for the cache's lifetime."""
        if self.seconds <= 0:
            return
        with self._lock:
            self._put(key, value)

    def _put(self, key: str, value: V) -> None:
        self._items[key] = (self.clock() + self.seconds, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def get_or_compute(self, key: str, compute: Callable[[], V]) -> V:
        """Return the value for ``key``, calling ``compute`` in at most one thread at a time
        per key; while it runs, others get the expired value if it expired less than
        ``stale_seconds`` ago, or wait for the new one."""
        if self.seconds <= 0:
            return compute()
        while True:
            with self._lock:
                now = self.clock()
                item = self._items.get(key)
                if item is not None and item[0] > now:
                    return item[1]
                flight = self._flights.get(key)
                if flight is None:
                    flight = self._flights[key] = self._event()
                    break  # this thread computes
                if item is not None and now < item[0] + self.stale_seconds:
                    return item[1]  # stale, while another thread computes the new one
            flight.wait()  # then look again (if that thread failed, one waiter computes)
        return self._compute(key, compute, flight)

    def get_or_refresh(
        self,
        key: str,
        compute: Callable[[], V],
        spawn: Callable[[Callable[[], object]], None],
        background: Callable[[], V] | None = None,
    ) -> V:
        """Like ``get_or_compute``, but nobody waits for an expired value's successor: the
        expired value is returned at once (within ``stale_seconds``) while ``spawn`` runs
        ``background`` (default ``compute``) elsewhere, e.g. in a thread, once per key."""
        if self.seconds <= 0:
            return compute()
        with self._lock:
            now = self.clock()
            item = self._items.get(key)
            if item is not None and item[0] > now:
                return item[1]
            stale = item is not None and now < item[0] + self.stale_seconds
            if not stale or key in self._flights:
                flight = None
            else:
                flight = self._flights[key] = self._event()
        if not stale:
            return self.get_or_compute(key, compute)
        if flight is not None:
            spawn(lambda: self._compute(key, background or compute, flight))
        return item[1]  # type: ignore[index]

    def _compute(self, key: str, compute: Callable[[], V], flight: threading.Event) -> V:
        """Compute and keep ``key``'s value, then release those waiting on ``flight``."""
        try:
            value = compute()
            with self._lock:
                self._put(key, value)
        finally:
            with self._lock:
                del self._flights[key]
            flight.set()
        return value

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
