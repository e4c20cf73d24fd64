"""A global cap on BigModel calls in flight, shared by every worker process through the database.

The provider limits concurrency per account and answers 429 past it; one API key serves all our
users, so a burst must queue here instead. A call takes one of PROVIDER_MAX_CONCURRENCY slot rows
with a conditional UPDATE (atomic on SQLite and PostgreSQL alike) and frees it afterwards; a slot
whose holder died frees itself when its lease runs out.
"""

import contextlib
import random
import threading
import time

from django.conf import settings
from django.utils import timezone

from clones import bigmodel
from clones.models import ProviderSlot, provider_call_settled

FREE = timezone.make_aware(timezone.datetime(2000, 1, 1))
# Signalled when a thread of this process frees a slot (Celery's threads pool runs many calls at once).
_released = threading.Condition()


# The provider limits calls in flight per model: speech recognition (the checks) has slots of its own,
# numbered from RECOGNITION + 1, so checks never wait behind speech nor speech behind checks.
SPEECH, RECOGNITION = 0, 10_000


def _ensure_slots(count, base=SPEECH):
    ProviderSlot.objects.bulk_create(
        [ProviderSlot(number=base + n, expires_at=FREE) for n in range(1, count + 1)], ignore_conflicts=True
    )


def _take(number, now, lease):
    return ProviderSlot.objects.filter(number=number, expires_at__lt=now).update(expires_at=now + lease)


def _try_take(count, lease, base=SPEECH):
    """A free slot's number, or None. One query when the first slot tried is free, two when all are busy."""
    now = timezone.now()
    first = base + random.randint(1, count)
    if _take(first, now, lease):
        return first
    free = list(
        ProviderSlot.objects.filter(number__gt=base, number__lte=base + count, expires_at__lt=now)
        .exclude(number=first)
        .values_list("number", flat=True)
    )
    random.shuffle(free)
    for number in free:
        if _take(number, now, lease):
            return number
    return None


@contextlib.contextmanager
def provider_slot(base=SPEECH):
    count = settings.PROVIDER_MAX_CONCURRENCY
    if count <= 0:
        yield
        return
    lease = provider_call_settled()
    deadline = time.monotonic() + settings.PROVIDER_SLOT_WAIT_SECONDS
    number = _try_take(count, lease, base)
    if number is None:
        _ensure_slots(count, base)
    while number is None:
        if time.monotonic() > deadline:
            # Surfaces like the provider's own concurrency error, and is retried the same way.
            raise bigmodel.RateLimited("All provider slots stayed busy", code="slots")
        with _released:
            # Woken at once when a thread of this process frees a slot; others are noticed by polling.
            _released.wait(timeout=random.uniform(0.02, 0.1))
        number = _try_take(count, lease, base)
    try:
        yield
    finally:
        ProviderSlot.objects.filter(number=number).update(expires_at=FREE)
        with _released:
            _released.notify()
