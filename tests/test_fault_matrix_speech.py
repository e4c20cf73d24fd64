"""The fault matrix's speech rows: a slow call, a sweep during a slow call, a worker killed mid-speech.

Each ends with the utterance spoken and exactly one paid (answered 200) call per part. The worker
runs with a 3 s lease, renewed every second while it works, so a slow call outlives its lease many
times over: only the renewal keeps the sweep and a redelivered message away from it.
"""

import time

import pytest
from django.utils import timezone

from accounts.models import ProviderCall
from clones.models import Utterance
from clones.tasks import enqueue_utterance, sweep_stuck_work
from clones.text import split_text
from tests.conftest import start_worker, stop_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

LEASE = 3
SLOW = 3 * LEASE  # seconds the sandbox takes over one speech call
SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank. "


@pytest.fixture
def lease_worker(own_workers):
    worker = start_worker({"WORK_LEASE_SECONDS": str(LEASE), "SPEECH_PARALLEL_PARTS": "1"})
    yield worker
    stop_worker(worker)


def _utterance(user, parts=1):
    text = SENTENCE * (15 * parts)  # about 980 characters a part
    utterance = Utterance.objects.create(owner=user, system_voice="tongtong", text=text)
    assert len(split_text(text, 1024)) == parts
    return utterance


def _finished(utterance, timeout=90):
    return wait_until(
        lambda: Utterance.objects.filter(pk=utterance.pk, status__in=["ready", "failed"]).first(), timeout
    )


def _paid(sandbox):
    return [call for call in sandbox.calls("audio.speech") if call["status"] == 200]


def test_a_slow_call_redelivered_meanwhile_is_paid_once(lease_worker, sandbox, user):
    sandbox.set_faults([{"route": "audio.speech", "times": 1, "action": "delay", "latency": SLOW}])
    utterance = _utterance(user)
    enqueue_utterance(utterance)
    wait_until(lambda: sandbox.calls("audio.speech"), 30)
    time.sleep(LEASE * 2)  # far past the first lease: only its renewal holds the utterance now
    enqueue_utterance(utterance)  # as a redelivered message would
    assert _finished(utterance).status == Utterance.Status.READY
    time.sleep(2)  # a second task would have called by now
    assert len(sandbox.calls("audio.speech")) == 1
    assert ProviderCall.objects.filter(route="audio.speech").count() == 1


def test_a_sweep_during_a_slow_call_leaves_it_alone(lease_worker, sandbox, user, settings):
    settings.STUCK_AFTER_SECONDS = 0  # everything unfinished is old enough to be swept
    sandbox.set_faults([{"route": "audio.speech", "times": 1, "action": "delay", "latency": SLOW}])
    utterance = _utterance(user)
    Utterance.objects.filter(pk=utterance.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=11))
    enqueue_utterance(utterance)
    wait_until(lambda: sandbox.calls("audio.speech"), 30)
    time.sleep(LEASE * 2)
    assert sweep_stuck_work()["utterances"] == 0
    assert _finished(utterance).status == Utterance.Status.READY
    time.sleep(2)
    assert len(sandbox.calls("audio.speech")) == 1
    assert utterance.audio.storage.listdir("utterances")[1] == [f"{utterance.uuid}.wav"]  # no orphaned second file


def test_a_worker_killed_mid_speech_leaves_its_paid_parts_and_no_part_is_paid_twice(
    own_workers, sandbox, user, settings
):
    # Parts 1 and 2 are spoken; part 3 meets a 503 (not paid), and the worker is killed while it
    # waits to retry: its retry message dies with it (the filesystem broker's lost message).
    sandbox.set_faults([{"route": "audio.speech", "skip": 2, "times": 1, "action": "error", "status": 503}])
    worker = start_worker(
        {"WORK_LEASE_SECONDS": str(LEASE), "SPEECH_PARALLEL_PARTS": "1", "VOICECLONE_TEST_RETRY_BASE_DELAY": "30"}
    )
    try:
        utterance = _utterance(user, parts=3)
        enqueue_utterance(utterance)
        wait_until(lambda: len(sandbox.calls("audio.speech")) == 3, 60)
        wait_until(lambda: Utterance.objects.get(pk=utterance.pk).status == Utterance.Status.QUEUED, 30)
        worker.kill()  # SIGKILL: no cleanup, no acknowledgement
        worker.wait()
    finally:
        stop_worker(worker)
    assert [call["status"] for call in sandbox.calls("audio.speech")] == [200, 200, 503]

    restarted = start_worker({"WORK_LEASE_SECONDS": str(LEASE), "SPEECH_PARALLEL_PARTS": "1"})
    try:
        # The lease covers the retry that may never come, then runs out, and the sweep queues it again.
        # (When the kill came before the worker fetched its retry message, the message is still in the
        # broker, and the new worker runs it when it is due instead: either way, the same calls.)
        def lapsed_or_ready():
            current = Utterance.objects.get(pk=utterance.pk)
            lapsed = current.lease_expires_at is not None and current.lease_expires_at < timezone.now()
            return lapsed or current.status == Utterance.Status.READY

        wait_until(lapsed_or_ready, 60)
        if Utterance.objects.get(pk=utterance.pk).status != Utterance.Status.READY:
            assert sweep_stuck_work()["utterances"] == 1
        assert _finished(utterance).status == Utterance.Status.READY
    finally:
        stop_worker(restarted)
    assert [call["status"] for call in sandbox.calls("audio.speech")] == [200, 200, 503, 200]
    assert len(_paid(sandbox)) == 3 == Utterance.objects.get(pk=utterance.pk).parts
    assert ProviderCall.objects.filter(route="audio.speech").count() == 4  # metered before each call went out
