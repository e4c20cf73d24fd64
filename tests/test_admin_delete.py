"""The admin's own "Delete selected voice clones" deletes as the owner's delete does: the provider
voice first, then the files and the row."""

import os

import pytest
from django.urls import reverse

from clones import bigmodel, pipeline
from clones.models import Clone
from tests.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_delete_selected_removes_the_provider_voice_and_the_files(admin_client, sandbox, celery_worker, make_clone):
    clone = make_clone(status=Clone.Status.QUEUED)
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as api:
        pipeline.process(clone, api)
    clone.refresh_from_db()
    files = [clone.sample.path, clone.preview_audio.path]
    assert len(sandbox.voices()) == 1

    changelist = reverse("admin:clones_clone_changelist")
    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [clone.pk], "post": "yes"}
    )
    assert response.status_code == 302

    wait_until(lambda: not Clone.objects.filter(pk=clone.pk).exists(), timeout=60)
    assert sandbox.voices() == [] and len(sandbox.calls("voice.delete")) == 1
    assert not any(os.path.exists(path) for path in files)


def test_the_change_forms_delete_goes_the_same_way(admin_client, sandbox, celery_worker, make_clone):
    clone = make_clone(voice_id="3af4deae-494f-5af1-82a9-0643d4dba0ad")
    admin_client.post(reverse("admin:clones_clone_delete", args=[clone.pk]), {"post": "yes"})
    wait_until(lambda: not Clone.objects.filter(pk=clone.pk).exists(), timeout=60)
    assert len(sandbox.calls("voice.delete")) == 1
