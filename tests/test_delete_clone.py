"""Deleting a clone deletes the provider voice first, through a task; never a silent orphan."""

import os

import pytest
from django.urls import reverse

from clones import bigmodel, pipeline
from clones.models import Clone
from tests.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_delete_survives_provider_failures_and_leaves_nothing(client, user, sandbox, celery_worker, make_clone):
    clone = make_clone(status=Clone.Status.QUEUED)
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as api:
        pipeline.process(clone, api)
    clone.refresh_from_db()
    files = [clone.sample.path, clone.preview_audio.path]
    assert len(sandbox.voices()) == 1

    sandbox.set_faults([{"route": "voice.delete", "action": "error", "status": 503, "times": 2}])
    client.force_login(user)
    confirm = client.get(reverse("clones:delete", args=[clone.uuid]))
    assert "This cannot be undone." in confirm.text
    client.post(reverse("clones:delete", args=[clone.uuid]))
    assert "Deletion pending" in client.get(reverse("clones:mine")).text

    wait_until(lambda: not Clone.objects.filter(pk=clone.pk).exists(), timeout=60)
    assert sandbox.voices() == []
    assert [c["status"] for c in sandbox.calls("voice.delete")] == [503, 503, 200]
    assert not any(os.path.exists(path) for path in files)


def test_voice_already_gone_at_the_provider_still_deletes_here(client, user, sandbox, celery_worker, make_clone):
    clone = make_clone(voice_id="3af4deae-494f-5af1-82a9-0643d4dba0ad")
    client.force_login(user)
    client.post(reverse("clones:delete", args=[clone.uuid]))
    wait_until(lambda: not Clone.objects.filter(pk=clone.pk).exists(), timeout=60)
    assert len(sandbox.calls("voice.delete")) == 1
