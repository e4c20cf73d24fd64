"""`/health/` for load balancers: can this process reach the database, the broker and the storage?

200 when all three answer, 503 otherwise. The body names what failed by error class only: the
endpoint is public, and connection errors can carry host names or credentials (those go to the log).
"""

import logging
import time

from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from voiceclone_site.celery import app as celery_app

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 2  # seconds: a probe must answer before the load balancer gives up on it


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker():
    with celery_app.connection_for_write(connect_timeout=CONNECT_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=CONNECT_TIMEOUT)


def check_storage():
    # A read that needs working credentials and a reachable bucket (or folder); nothing is written.
    default_storage.exists("health-probe")


CHECKS = {"database": check_database, "broker": check_broker, "storage": check_storage}


def _run(name, check):
    started = time.monotonic()
    try:
        check()
    except Exception as exc:  # any failure at all means "not healthy", never a 500
        log.warning("health check %s failed: %s", name, exc)
        result = {"ok": False, "error": type(exc).__name__}
    else:
        result = {"ok": True}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


@never_cache
@require_GET
def health(request):
    checks = {name: _run(name, check) for name, check in CHECKS.items()}
    healthy = all(result["ok"] for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )
