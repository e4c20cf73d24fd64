import gc
import os
import sys
from logging.config import dictConfig

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_ready
from django.conf import settings
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceclone_site.settings")

# filesystem:// (the embedded broker) means kombu's filesystem transport with whole-message writes.
TRANSPORT_ALIASES["filesystem"] = "voiceclone_site.broker:Transport"

app = Celery("voiceclone")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs):
    """The worker logs as the web does, through Django's LOGGING (LOG_LEVEL sets its level), instead of
    Celery's own format; as cookiecutter-django's celery_app.py does. Connecting this hook is what stops
    Celery from configuring logging itself, so the worker's --loglevel no longer applies."""
    dictConfig(settings.LOGGING)


def worker_command(*, concurrency=None, pool="threads", loglevel="INFO", celery=(sys.executable, "-m", "celery")):
    """The `celery worker` command line the Procfile runs, as the tests and benchmarks start it (without
    `concurrency`, the settings' WORKER_CONCURRENCY threads, as the Procfile runs it)."""
    threads = [f"--concurrency={concurrency}"] if concurrency else []
    return [*celery, "-A", "voiceclone_site", "worker", f"--pool={pool}", *threads,
            "--without-mingle", "--without-gossip", f"--loglevel={loglevel}"]  # fmt: skip


@worker_init.connect
def hand_the_interpreter_over_sooner(**kwargs):
    """A task thread back from the database or the provider gets the interpreter (the GIL) from a busy
    thread after WORKER_SWITCH_INTERVAL instead of Python's 5 ms.

    A take makes a dozen database round trips before its call, and each one ends by waiting for the
    GIL while another thread decodes, measures or compares audio: at 5 ms a turn, regenerating a line
    took 1.24× a provider call (median of 15 rounds) and 1.12× at 0.5 ms (bench/README.md, studio).
    """
    sys.setswitchinterval(settings.WORKER_SWITCH_INTERVAL)


@worker_ready.connect
def freeze_what_startup_made(sender, **kwargs):
    """Leave the objects of the worker's start out of Python's full garbage collections.

    A full collection walks every tracked object while all task threads stand still: with Django,
    Celery, NumPy and SciPy loaded that took 95 to 138 ms, several times a studio "generate all", and
    each stalled the takes about to call the provider (bench/README.md, studio). The modules every
    take measures with are imported first, so that they are frozen too.
    """
    import pyloudnorm  # noqa: F401
    import scipy.signal  # noqa: F401

    gc.collect()
    gc.freeze()


@worker_ready.connect
def open_database_connections(sender, **kwargs):
    """Open a database connection for every task thread now, not when a burst of tasks first needs them.

    The PostgreSQL pool opens connections only when a thread asks and none is free, one at a time: the
    first "generate all" after the worker starts (or after ten idle minutes, when the pool shrinks back
    to its minimum) had its threads queue for a connection for up to 1.5 s before their first query
    (bench/README.md, studio). The pool keeps this many open instead.
    """
    from django.db import connection

    pool = getattr(connection, "pool", None)  # None on SQLite, or with DATABASE_POOL=false
    threads = getattr(sender.pool, "limit", None)
    if pool is None or not threads or threads <= pool.min_size:
        return
    pool.open()
    pool.resize(min_size=min(threads, pool.max_size), max_size=pool.max_size)
