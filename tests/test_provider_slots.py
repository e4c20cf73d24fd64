"""The global cap on provider calls in flight: bursts queue instead of failing with 429."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from clones import bigmodel
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
