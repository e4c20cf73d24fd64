"""The Celery worker logs through Django's LOGGING, in the same lines as the web process."""

import re

import pytest

from clones.models import Clone
from clones.tasks import enqueue_clone
from tests.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

# LOGGING's "plain" formatter: "2026-11-30 18:29:20,690 INFO clones.tasks message".
DJANGO_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ ")


def test_the_worker_logs_its_provider_calls_in_the_web_format(celery_worker, sandbox, make_clone):
    clone = make_clone(status=Clone.Status.QUEUED)
    enqueue_clone(clone)  # autocommit here: published at once
    wait_until(lambda: Clone.objects.filter(pk=clone.pk, status=Clone.Status.READY).exists(), timeout=60)
    lines = wait_until(
        lambda: [line for line in celery_worker.log_path.read_text().splitlines() if f"clone={clone.pk}" in line],
        timeout=10,
    )
    calls = [line for line in lines if " clones.bigmodel bigmodel route=" in line]
    assert calls and all(DJANGO_LINE.match(line) for line in calls)
