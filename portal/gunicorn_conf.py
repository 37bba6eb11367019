"""Gunicorn settings for the portal: `gunicorn -c python:portal.gunicorn_conf 'portal:create_app()'`.

Also what `flask --app portal serve` (the embedded default's server) runs with.
Threaded workers (gthread): a slow or idle client holds a thread, not a whole
worker, and keep-alive connections are closed after a few idle seconds, so a
handful of clients sending partial requests cannot stall the server the way
they stall sync workers. Uploads stream to storage, so long uploads need no
long worker timeout. Every value can be overridden on gunicorn's command line
or with GUNICORN_CMD_ARGS.
"""

from __future__ import annotations

import os

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("PORTAL_THREADS", "8"))
timeout = 120            # a worker silent this long is restarted
graceful_timeout = 30
keepalive = 5            # idle keep-alive connections close after 5 s
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker) -> None:
    """Start the embedded queue consumer as soon as a worker is up (not on its first request)."""
    from portal.queue import start_embedded_consumer

    start_embedded_consumer(worker.wsgi)
