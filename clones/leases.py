"""Leases on provider work: one worker at a time on a clone, an utterance or a transcription, and a dead
worker's work free again within WORK_LEASE_SECONDS.

A row holds `lease_expires_at`. Taking it is a conditional UPDATE (only where it is empty or past), so
two workers never both get it. The lease is short, and `kept_alive` renews it from a thread of its
own while the work runs, however slow the provider is; when the worker dies (kill -9, a lost
machine) the renewals stop, the lease runs out, and the sweep (every SWEEP_INTERVAL) queues the work
again. A live worker's work is never taken from it: its lease is always in the future.
"""

import contextlib
import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)


def lease_deadline(now=None):
    """Return when a lease taken or renewed now runs out."""
    return (now or timezone.now()) + timedelta(seconds=settings.WORK_LEASE_SECONDS)


def unheld(now=None):
    """Rows nobody holds: no lease, or one that ran out."""
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now or timezone.now())


def lapsed(now=None):
    """Rows whose holder stopped renewing its lease: a worker that died while working on them."""
    return Q(lease_expires_at__lt=now or timezone.now())


@contextlib.contextmanager
def kept_alive(model, pk):
    """Renew the lease on `model` row `pk` every third of its length while the block runs.

    Only a lease still there is renewed: the step that finishes the work clears it in the same
    statement as its result, and the heartbeat must not put it back.
    """
    stop = threading.Event()
    interval = settings.WORK_LEASE_SECONDS / 3

    def beat():
        try:
            while not stop.wait(interval):
                try:
                    model.objects.filter(pk=pk, lease_expires_at__isnull=False).update(
                        lease_expires_at=lease_deadline()
                    )
                except Exception:  # a database hiccup: the next beat tries again, well within the lease
                    logger.warning("%s=%s lease renewal failed", model._meta.model_name, pk, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"lease-{model._meta.model_name}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
