"""gunicorn settings that keep personal data out of its logs.

The Procfile's web process and ``ruamkid serve`` load it (``--config python:bot.gunicorn_config``);
flags on the command line still override it. The access log stays off unless asked for
(``--access-logfile -``, as ``ruamkid serve`` does); when on, it has this safe form. Each new
worker process counts the public pages' tally in the background as it starts (bot.public.warm).
"""

import gc

from bot.logs import ACCESS_LOG_FORMAT

access_log_format = ACCESS_LOG_FORMAT
logger_class = "bot.logs.AccessLogger"


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's Worker
    """Once per new worker (the app is loaded by now): freeze what loading made, then warm the
    public pages' tally in the background.

    The classifier, the taxonomy and SQLAlchemy's mappings are ~260,000 long-lived objects:
    every full collection walked them all, and the first one after start paused a staff page
    0.6 s (bench/dashboard.py, gen-2 pause seen with ``gc.callbacks``). Frozen objects are
    still freed when nothing refers to them; only cycles among them stay until exit.
    """
    from flask import Flask

    from bot.public import warm

    gc.freeze()
    if isinstance(worker.wsgi, Flask):
        warm(worker.wsgi)
