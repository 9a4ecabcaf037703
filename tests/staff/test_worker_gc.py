"""A web worker hides what loading the app made from the cyclic garbage collector: full
collections walked ~260,000 startup objects and paused a staff page 0.6 s (the queue's p95)."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from gunicorn.app.base import Application

from bot import gunicorn_config


class _Configured(Application):
    """gunicorn reading bot.gunicorn_config as the Procfile's ``--config python:…`` does."""

    def init(self, parser, opts, args):
        return None

    def load_config(self) -> None:
        self.load_config_from_module_name_or_filename("python:bot.gunicorn_config")

    def load(self):
        return None


def test_gunicorn_runs_the_freeze_after_loading_the_app_in_each_worker():
    config = _Configured().cfg
    assert config.post_worker_init is gunicorn_config.post_worker_init
    gc.unfreeze()
    try:
        config.post_worker_init(SimpleNamespace(wsgi=None))  # a worker before its app
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
