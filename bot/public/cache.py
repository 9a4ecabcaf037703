"""Two small in-process helpers of the public pages: a time-limited cache of rendered pages and
a per-address request limit. Each worker process has its own (they protect one process)."""

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


class Limiter:
    """Allow each key ``limit`` hits per ``window`` seconds (fixed windows); 0 allows all."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._started = clock()
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count a hit; return None when allowed, else the seconds until the next window."""
        if self.limit <= 0:
            return None
        with self._lock:
            now = self.clock()
            if now - self._started >= self.window:
                self._started, self._hits = now, {}
            count = self._hits.get(key, 0) + 1
            self._hits[key] = count
            if count <= self.limit:
                return None
            return max(1.0, self.window - (now - self._started))
