"""The open-loop sender the load benchmarks share: requests go out at a fixed rate, each no
earlier than when it was due, whatever the server does, from threads that keep a connection
each. Latency is then counted from when a request was due, so a slow server cannot hide its
delay by slowing the sender down (the mistake of closed-loop load)."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable

Send = Callable[[http.client.HTTPConnection, int, float], http.client.HTTPConnection]


def open_loop(port: int, rate: float, seconds: float, senders: int, send: Send, timeout=10.0):
    """Call ``send(conn, i, due)`` for every ``i`` below ``rate × seconds``, at ``due`` (a
    ``time.monotonic()`` value) or as soon after as a sender is free. Each of ``senders``
    threads keeps its own connection to 127.0.0.1:``port``; ``send`` returns the connection to
    go on with (a new one if it had to reconnect). Return the seconds from the first due time
    to the end."""
    index = iter(range(int(rate * seconds)))
    lock = threading.Lock()
    begin = time.monotonic() + 0.5

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        while True:
            with lock:
                i = next(index, None)
            if i is None:
                break
            due = begin + i / rate
            if (pause := due - time.monotonic()) > 0:
                time.sleep(pause)
            conn = send(conn, i, due)
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - begin
