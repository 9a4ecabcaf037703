"""A time-limited cache of rendered public pages, in each worker process."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """Keep values for ``seconds``; at most ``size`` keys, the oldest dropped first."""

    def __init__(
        self, seconds: float, size: int = 2000, clock: Callable[[], float] = time.monotonic
    ):
        self.seconds = seconds
        self.size = size
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()
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
            self._items[key] = (self.clock() + self.seconds, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
