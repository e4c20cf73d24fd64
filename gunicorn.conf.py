"""gunicorn settings for the web process (`gunicorn voiceclone_site.wsgi --config gunicorn.conf.py`).

Every value can be overridden from the environment, so one file serves every machine size.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from voiceclone_site.log_redaction import redact

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Threads, not only processes: audio is streamed to players and seeking sends many small Range
# requests, which would each hold a whole sync worker.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# A sample upload (10 MB) over a slow link must finish; the provider is never called from a request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can't grow for weeks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = 200
# Only the proxy in front may set X-Forwarded-* headers (comma-separated addresses, or * behind a private LB).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"


class ShareTokenRedactingLogger(Logger):
    """gunicorn's logger, with share tokens cut out of every access-log field (request line, path, Referer)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = ShareTokenRedactingLogger


def child_exit(server, worker):
    # Prometheus multiprocess mode: a dead worker's live gauges must stop counting (metrics/instruments.py).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
