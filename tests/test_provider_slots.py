"""The global cap on provider calls in flight: bursts queue instead of failing with 429."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from clones import bigmodel, provider_slots
from clones.models import ProviderSlot
from clones.provider_slots import provider_slot
from sandbox.testing import running_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def burst(base_url, limiter, calls=8):
    def call(_):
        with bigmodel.BigModelClient(base_url, "sandbox", limiter=limiter) as client:
            try:
                client.list_voices()
                return "ok"
            except bigmodel.RateLimited as exc:
                return exc.code
            finally:
                connection.close()

    with ThreadPoolExecutor(max_workers=calls) as pool:
        return list(pool.map(call, range(calls)))


def test_burst_queues_under_the_cap(tmp_path, settings):
    settings.PROVIDER_MAX_CONCURRENCY = 2
    with running_sandbox(tmp_path, max_concurrency=2, latency=0.2) as provider:
        assert burst(provider.base_url, provider_slot) == ["ok"] * 8
        assert all(call["status"] == 200 for call in provider.calls())


def test_without_the_cap_the_provider_refuses(tmp_path):
    with running_sandbox(tmp_path, max_concurrency=2, latency=0.2) as provider:
        assert "1302" in burst(provider.base_url, None)


def test_a_slot_is_given_back_even_when_the_call_fails(settings):
    settings.PROVIDER_MAX_CONCURRENCY = 1
    for _ in range(3):
        with pytest.raises(RuntimeError), provider_slot():
            raise RuntimeError("call failed")
    with provider_slot():
        pass


def test_waiting_too_long_is_a_retryable_rate_limit(settings):
    settings.PROVIDER_MAX_CONCURRENCY, settings.PROVIDER_SLOT_WAIT_SECONDS = 1, 0.3
    held, release = threading.Event(), threading.Event()

    def hold():
        with provider_slot():
            held.set()
            release.wait(5)
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        with pytest.raises(bigmodel.RateLimited) as caught, provider_slot():
            pass
        assert caught.value.retryable
    finally:
        release.set()
        holder.join()


def test_threads_waiting_for_a_slot_leave_the_polling_to_one_of_them(settings, monkeypatch):
    """A slot freed by another process is only seen in the database: one waiting thread looks for it,
    not every one (dozens wait during a studio "generate all"), and it is found all the same."""
    settings.PROVIDER_MAX_CONCURRENCY = 1
    with provider_slot():
        pass  # the slot row exists
    # Held by another process: its row is taken, and no thread of this one will free it.
    ProviderSlot.objects.update(expires_at=timezone.now() + timedelta(minutes=5))
    looks = []
    real_try_take = provider_slots._try_take

    def counted(*args, **kwargs):
        looks.append(threading.current_thread().name)
        return real_try_take(*args, **kwargs)

    monkeypatch.setattr(provider_slots, "_try_take", counted)
    got = []

    def wait():
        try:
            with provider_slot():
                got.append(threading.current_thread().name)
        finally:
            connection.close()

    waiters = [threading.Thread(target=wait, name=f"waiter-{n}") for n in range(10)]
    for thread in waiters:
        thread.start()
    time.sleep(1.0)
    # One poller every 20-100 ms (about 17 looks a second) plus each waiter's look on arrival and at
    # most one more each after a nap: well under 10 threads each looking 17 times a second.
    assert len(looks) < 60, f"{len(looks)} looks at the database in a second"
    ProviderSlot.objects.update(expires_at=provider_slots.FREE)  # the other process frees it
    for thread in waiters:
        thread.join(timeout=30)
    assert sorted(got) == sorted(thread.name for thread in waiters)


def handed_over(settings, before_release=None):
    """Thread A holds the only slot, B waits for it, A is done: (A's slot, B's slot, the row's lease as A
    left it, the row's lease while B holds it)."""
    settings.PROVIDER_MAX_CONCURRENCY = 1
    held, done = threading.Event(), threading.Event()
    seen = {}

    def first():
        try:
            with provider_slot() as number:
                seen["a"] = number
                seen["a_lease"] = ProviderSlot.objects.get(number=number).expires_at
                held.set()
                done.wait(5)
                if before_release:
                    before_release(number)
        finally:
            connection.close()

    def second():
        try:
            with provider_slot() as number:
                seen["b"] = number
                seen["b_lease"] = ProviderSlot.objects.get(number=number).expires_at
        finally:
            connection.close()

    a = threading.Thread(target=first)
    a.start()
    held.wait(5)
    b = threading.Thread(target=second)
    b.start()
    deadline = time.monotonic() + 5
    while provider_slots._waiting[provider_slots.SPEECH].waiters == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    done.set()
    a.join(5)
    b.join(5)
    return seen


def test_a_slot_goes_straight_to_a_thread_waiting_in_the_same_process(settings):
    """Between one call and the next the slot is not freed and taken again in the database (two round
    trips while the worker's other threads hold the interpreter): the waiting thread gets it as it is."""
    seen = handed_over(settings)
    assert seen["b"] == seen["a"]
    assert seen["b_lease"] == seen["a_lease"]  # the row was neither freed nor taken again
    assert ProviderSlot.objects.get(number=seen["a"]).expires_at == provider_slots.FREE  # B freed it at the end


def test_a_slot_handed_over_late_in_its_lease_is_renewed(settings):
    """A long call (a streamed one, say) leaves little of the lease: the next holder writes a new one."""

    def long_ago(number):
        provider_slots._leased_at[number] = time.monotonic() - 3600

    seen = handed_over(settings, before_release=long_ago)
    assert seen["b"] == seen["a"]
    assert seen["b_lease"] > seen["a_lease"]
