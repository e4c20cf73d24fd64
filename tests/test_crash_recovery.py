"""A worker killed mid-clone loses nothing and pays for nothing twice."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from clones.models import Clone
from clones.tasks import sweep_stuck_work
from tests.conftest import start_worker, stop_worker, wait_until
from tests.samples import wav_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_worker_killed_after_the_provider_accepted_the_clone(own_workers, client, user, sandbox, settings):
    # The sandbox creates the voice, then holds its answer: the worker dies waiting for it.
    sandbox.set_faults([{"route": "voice.clone", "action": "delay", "after_latency": 60}])
    worker = start_worker({"CLONE_LEASE_SECONDS": "2"})
    try:
        client.force_login(user)
        client.post(
            reverse("clones:create"),
            {"name": "Crash", "preview_text": "Hello.", "language": "en", "visibility": "private",
             "consent": "on", "sample": SimpleUploadedFile("s.wav", wav_bytes(4))},
        )  # fmt: skip
        wait_until(lambda: len(sandbox.voices()) == 1, timeout=30)
        worker.kill()  # SIGKILL: no cleanup, no acknowledgement
        worker.wait()
    finally:
        stop_worker(worker)
    clone = Clone.objects.get()
    assert clone.status == Clone.Status.CLONING and not clone.voice_id

    sandbox.clear_faults()
    settings.STUCK_AFTER_SECONDS = 0
    restarted = start_worker()
    try:
        wait_until(lambda: Clone.objects.get().lease_expires_at < timezone.now(), 10)
        assert sweep_stuck_work()["requeued"] == 1
        wait_until(lambda: Clone.objects.get().is_finished, timeout=60)
    finally:
        stop_worker(restarted)
    clone.refresh_from_db()
    assert clone.status == Clone.Status.READY
    assert [v["voice"] for v in sandbox.voices()] == [clone.voice_id]
    assert len(sandbox.calls("voice.clone")) == 1
    assert clone.preview_audio.read()[:4] == b"RIFF"


def test_sweep_fails_clones_past_the_retry_budget(make_clone, settings):
    settings.STUCK_AFTER_SECONDS = 0
    clone = make_clone(status=Clone.Status.UPLOADING, attempts=settings.CLONE_MAX_RETRIES + 1)
    assert sweep_stuck_work()["failed"] == 1
    clone.refresh_from_db()
    assert clone.status == Clone.Status.FAILED and clone.error_kind == Clone.ErrorKind.UNAVAILABLE


def test_sweep_leaves_clones_someone_holds(make_clone, settings):
    settings.STUCK_AFTER_SECONDS = 0
    clone = make_clone(status=Clone.Status.CLONING)
    assert clone.claim()
    assert sweep_stuck_work()["requeued"] == 0


def test_a_clone_whose_worker_dies_while_it_waits_to_retry_is_swept_when_the_retry_was_due(
    own_workers, client, user, sandbox, settings
):
    # The clone call meets a 503 (not paid); the worker is killed while it waits to try again, and
    # its retry message dies with it. The clone must not wait STUCK_AFTER_SECONDS (10 minutes) for
    # the sweep: its lease runs out when the retry was due.
    sandbox.set_faults([{"route": "voice.clone", "times": 1, "action": "error", "status": 503}])
    worker = start_worker({"VOICECLONE_TEST_RETRY_BASE_DELAY": "6"})
    try:
        client.force_login(user)
        client.post(
            reverse("clones:create"),
            {"name": "Waits", "preview_text": "Hello.", "language": "en", "visibility": "private",
             "consent": "on", "sample": SimpleUploadedFile("s.wav", wav_bytes(4))},
        )  # fmt: skip
        wait_until(lambda: Clone.objects.get().error_message != "" and Clone.objects.get().lease_expires_at, 30)
        worker.kill()  # SIGKILL: no cleanup, no acknowledgement
        worker.wait()
    finally:
        stop_worker(worker)
    clone = Clone.objects.get()
    due = clone.lease_expires_at
    assert clone.status == Clone.Status.CLONING
    assert timezone.now() < due <= timezone.now() + timezone.timedelta(seconds=6)
    assert settings.STUCK_AFTER_SECONDS >= 600  # the sweep below is the lease's doing, not the stuck timer's
    assert sweep_stuck_work()["requeued"] == 0  # not before the retry is due

    restarted = start_worker()
    try:
        # When the kill came before the worker fetched its retry message, the message is still in the
        # broker and the new worker runs it when due instead; either way the clone finishes once.
        wait_until(lambda: timezone.now() > due or Clone.objects.get().is_finished, 10)
        if not Clone.objects.get().is_finished:
            assert sweep_stuck_work()["requeued"] == 1
        wait_until(lambda: Clone.objects.get().is_finished, timeout=60)
    finally:
        stop_worker(restarted)
    clone.refresh_from_db()
    assert clone.status == Clone.Status.READY
    assert [call["status"] for call in sandbox.calls("voice.clone")] == [503, 200]
