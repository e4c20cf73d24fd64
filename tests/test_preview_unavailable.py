"""A clone whose voice exists but whose preview no route gave: ready, told so, and fetched again on request."""

import pytest
from django.test import Client
from django.urls import reverse

from clones import tasks
from clones.models import Clone
from tests.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True)]

NO_ROUTE = [
    {"route": "download", "action": "error", "status": 404, "times": None},
    {"route": "audio.speech", "action": "error", "status": 400, "code": "1214", "times": None},
]


def finished(clone):
    return wait_until(lambda: Clone.objects.filter(pk=clone.pk, status__in=Clone.FINISHED).first(), timeout=60)


@pytest.mark.worker
def test_no_preview_makes_a_ready_clone_that_its_owner_can_fetch_again(
    client, user, make_clone, sandbox, celery_worker
):
    sandbox.set_faults(NO_ROUTE)
    clone = make_clone(status=Clone.Status.QUEUED)
    tasks.enqueue_clone(clone)
    clone = finished(clone)
    assert clone.status == Clone.Status.READY and clone.preview_unavailable
    assert len(sandbox.voices()) == 1 and len(sandbox.calls("voice.clone")) == 1

    client.force_login(user)
    page = client.get(clone.get_absolute_url())
    assert "gave no preview of it this time" in page.text and "The clone failed." not in page.text.split("hidden")[0]
    status = client.get(reverse("clones:status", args=[clone.uuid])).json()
    assert status["preview_unavailable"] and status["preview_url"] is None and status["failure_reason"] == ""

    sandbox.clear_faults()
    assert client.post(reverse("clones:refetch_preview", args=[clone.uuid])).status_code == 302
    clone = wait_until(lambda: Clone.objects.filter(pk=clone.pk, status="ready").exclude(preview_audio="").first(), 60)
    assert clone.preview_route == Clone.PreviewRoute.DOWNLOAD_URL and clone.preview_audio.read()[:4] == b"RIFF"
    assert len(sandbox.calls("voice.clone")) == 1 and len(sandbox.voices()) == 1  # the same voice


def test_the_api_fetches_an_unavailable_preview_again_and_refuses_otherwise(api_token, make_clone):
    api = Client(headers={"Authorization": f"Bearer {api_token}"})
    unavailable = make_clone(voice_id="v-1", preview_route=Clone.PreviewRoute.UNAVAILABLE)
    unavailable.preview_audio.delete(save=True)
    body = api.get(f"/api/v1/clones/{unavailable.uuid}").json()
    assert body["preview_route"] == "unavailable" and body["links"]["preview"] is None
    response = api.post(body["links"]["refetch_preview"])
    assert response.status_code == 202 and response.json()["status"] == "queued"
    unavailable.refresh_from_db()
    assert unavailable.preview_route == "" and unavailable.status == Clone.Status.QUEUED

    fine = make_clone(voice_id="v-2", preview_route=Clone.PreviewRoute.DOWNLOAD_URL)
    response = api.post(f"/api/v1/clones/{fine.uuid}/preview/refetch")
    assert response.status_code == 409 and response.json()["error"]["code"] == "preview_available"


def test_someone_elses_clone_cannot_be_refetched(client, user, other_user, make_clone):
    theirs = make_clone(owner=other_user, voice_id="v-3", preview_route=Clone.PreviewRoute.UNAVAILABLE)
    theirs.preview_audio.delete(save=True)
    client.force_login(user)
    assert client.post(reverse("clones:refetch_preview", args=[theirs.uuid])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.preview_route == Clone.PreviewRoute.UNAVAILABLE


def test_the_admin_shows_which_route_served_the_preview(admin_client, make_clone):
    make_clone(voice_id="v-4", preview_route=Clone.PreviewRoute.SPEECH, name="Spoken preview")
    listing = admin_client.get(reverse("admin:clones_clone_changelist"))
    assert "Spoken with the new voice" in listing.text
