"""gunicorn settings that keep personal data out of its logs.

The Procfile's web process and ``ruamkid serve`` load it (``--config python:bot.gunicorn_config``);
flags on the command line still override it. The access log stays off unless asked for
(``--access-logfile -``, as ``ruamkid serve`` does); when on, it has this safe form. Each new
worker process counts the public pages' tally in the background as it starts (bot.public.warm).
"""

from bot.logs import ACCESS_LOG_FORMAT

access_log_format = ACCESS_LOG_FORMAT
logger_class = "bot.logs.AccessLogger"


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's Worker
    """Warm the public pages' tally in a new worker (the app is loaded by now)."""
    from flask import Flask

    from bot.public import warm

    if isinstance(worker.wsgi, Flask):
        warm(worker.wsgi)
