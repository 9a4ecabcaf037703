"""gunicorn settings that keep personal data out of its logs.

The Procfile's web process and ``ruamkid serve`` load it (``--config python:bot.gunicorn_config``);
flags on the command line still override it. The access log stays off unless asked for
(``--access-logfile -``, as ``ruamkid serve`` does); when on, it has this safe form.
"""

from bot.logs import ACCESS_LOG_FORMAT

access_log_format = ACCESS_LOG_FORMAT
logger_class = "bot.logs.AccessLogger"
