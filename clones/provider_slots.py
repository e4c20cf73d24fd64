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
from functools import partial

from django.conf import settings
from django.utils import timezone

from clones import bigmodel
from clones.models import ProviderSlot, provider_call_settled

FREE = timezone.make_aware(timezone.datetime(2000, 1, 1))


# The provider limits calls in flight per model: speech recognition (the checks) has slots of its own,
# numbered from RECOGNITION + 1, so checks never wait behind speech nor speech behind checks.
SPEECH, RECOGNITION = 0, 10_000


def _ensure_slots(count, base=SPEECH):
    ProviderSlot.objects.bulk_create(
        [ProviderSlot(number=base + n, expires_at=FREE) for n in range(1, count + 1)], ignore_conflicts=True
    )


def _take(number, now, lease):
    taken = ProviderSlot.objects.filter(number=number, expires_at__lt=now).update(expires_at=now + lease)
    if taken:
        _leased_at[number] = time.monotonic()
    return taken


def _try_take(count, lease, base=SPEECH):
    """A free slot's number, or None. One query when the first slot tried is free, two when all are busy."""
    now = timezone.now()
    first = base + random.randint(1, count)
    if _take(first, now, lease):
        return first
    slots = ProviderSlot.objects.filter(number__gt=base, number__lte=base + count)
    # Looked at again while any is free: in a burst, threads race for the same free slots, and one that
    # lost every race of its first look would otherwise wait for the next poll (20 to 100 ms) with slots
    # still free. Each look that finds some free but takes none means others took them: it ends.
    while free := list(slots.filter(expires_at__lt=now).values_list("number", flat=True)):
        random.shuffle(free)
        for number in free:
            if _take(number, now, lease):
                return number
        now = timezone.now()
    return None


# When each slot's lease was last written by this process (monotonic seconds): a slot handed from one
# thread to the next keeps its row's lease, and is renewed only once a good part of it has gone by.
_leased_at = {}


def renew(number):
    """Extend a held slot's lease: a streamed call can outlast one (clones.streaming renews it)."""
    ProviderSlot.objects.filter(number=number).update(expires_at=timezone.now() + provider_call_settled())
    _leased_at[number] = time.monotonic()


@contextlib.contextmanager
def provider_slot(base=SPEECH):
    """Hold one of the slots of the pool at `base` for the length of a call; yields its number (None when
    there is no cap)."""
    count = settings.PROVIDER_MAX_CONCURRENCY
    if count <= 0:
        yield None
        return
    lease = provider_call_settled()
    waiting = _waiting.setdefault(base, _Waiting())  # atomic: one per pool however many threads ask
    number = _try_take(count, lease, base)
    if number is None:
        _ensure_slots(count, base)
        number, handed = waiting.wait_for(partial(_try_take, count, lease, base))
        if handed and time.monotonic() - _leased_at.get(number, 0) > lease.total_seconds() / 4:
            renew(number)
    try:
        yield number
    finally:
        if not waiting.hand_over(number):
            ProviderSlot.objects.filter(number=number).update(expires_at=FREE)


class _Waiting:
    """The threads of this process waiting for a slot of one pool (Celery's threads pool runs many calls
    at once; a "generate all" has dozens of takes waiting).

    A thread done with its slot hands it straight to a waiting thread of this process: the slot's row
    stays taken, and the next call goes out without two database round trips (freeing the row, taking
    it again) between one call and the next, each of them a wait for the interpreter while other
    threads decode and measure the takes that just came back. Slots freed by other processes can only
    be seen in the database, and one waiter at a time looks there, every 20 to 100 ms: when every
    waiter polled, dozens of threads each ran two queries ten times a second, and the worker spent its
    CPU and the database's on that instead of on the takes.
    """

    NAP = 1.0  # the longest a waiter sleeps without looking itself, should a wake-up go astray

    def __init__(self):
        self.condition = threading.Condition()
        self.waiters = 0
        self.polling = False
        self.handed = []  # slots handed over and not yet picked up, at most one per waiter

    def wait_for(self, try_take):
        """(slot number, whether it was handed over by a thread of this process)."""
        with self.condition:
            self.waiters += 1
        orphans = []
        try:
            return self._wait_for(try_take)
        finally:
            with self.condition:
                self.waiters -= 1
                if len(self.handed) > self.waiters:  # handed to a waiter that gave up meanwhile
                    orphans, self.handed = self.handed[self.waiters :], self.handed[: self.waiters]
            if orphans:
                ProviderSlot.objects.filter(number__in=orphans).update(expires_at=FREE)

    def _wait_for(self, try_take):
        deadline = time.monotonic() + settings.PROVIDER_SLOT_WAIT_SECONDS
        while True:
            with self.condition:
                if self.handed:
                    return self.handed.pop(), True
                left = deadline - time.monotonic()
                if left <= 0:
                    # Surfaces like the provider's own concurrency error, and is retried the same way.
                    raise bigmodel.RateLimited("All provider slots stayed busy", code="slots")
                polling = not self.polling
                self.polling = self.polling or polling
                self.condition.wait(timeout=min(left, random.uniform(0.02, 0.1) if polling else self.NAP))
                if polling:
                    self.polling = False
                if self.handed:
                    if polling:
                        self.condition.notify()  # another waiter takes over the polling
                    return self.handed.pop(), True
            number = try_take()
            if number is not None:
                if polling:
                    with self.condition:
                        self.condition.notify()
                return number, False

    def hand_over(self, number):
        """Give a slot done with to a waiting thread; False if none waits for one."""
        with self.condition:
            if self.waiters <= len(self.handed):
                return False
            self.handed.append(number)
            self.condition.notify()
            return True


_waiting = {}
