import os
import sys
from logging.config import dictConfig

from celery import Celery
from celery.signals import setup_logging
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


def worker_command(*, concurrency, pool="threads", loglevel="INFO", celery=(sys.executable, "-m", "celery")):
    """The `celery worker` command line the Procfile runs, as the tests and benchmarks start it."""
    return [*celery, "-A", "voiceclone_site", "worker", f"--pool={pool}", f"--concurrency={concurrency}",
            "--without-mingle", "--without-gossip", f"--loglevel={loglevel}"]  # fmt: skip
