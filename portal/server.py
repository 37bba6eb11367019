"""`flask --app portal serve`: the portal on gunicorn, with the settings of portal/gunicorn_conf.py.

The embedded default runs one gunicorn worker with threads, so the embedded
queue consumer (SQLite-backed) lives in that one process beside the web
threads, and one command starts everything without Flask's development server.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from portal import gunicorn_conf


class PortalServer(BaseApplication):
    """Gunicorn serving `create_app()`, built in each worker after the fork."""

    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        defaults = {name: getattr(gunicorn_conf, name) for name in dir(gunicorn_conf)
                    if name in self.cfg.settings}
        for name, value in {**defaults, **self.options}.items():
            if value is not None:
                self.cfg.set(name, value)

    def load(self):
        from portal import create_app

        return create_app()


def serve(host: str, port: int, workers: int, threads: int) -> None:
    PortalServer({"bind": f"{host}:{port}", "workers": workers, "threads": threads}).run()
