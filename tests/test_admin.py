"""Staff run Voiceclone from the Django admin."""

import pytest
from django.core.files.base import ContentFile

from clones.models import Clone

pytestmark = pytest.mark.django_db


@pytest.fixture
def clone(user):
    clone = Clone(
        owner=user,
        name="Findable",
        provider_model="glm-tts-clone",
        preview_text="x",
        sample_format="wav",
        voice_id="3af4deae-494f-5af1-82a9-0643d4dba0ad",
        status=Clone.Status.FAILED,
        error_code="1113",
    )
    clone.sample.save("x.wav", ContentFile(b"RIFF"), save=False)
    clone.save()
    return clone


def test_changelist_searches_by_provider_voice_id(admin_client, clone):
    response = admin_client.get("/admin/clones/clone/", {"q": "3af4deae"})
    assert response.status_code == 200
    assert "Findable" in response.text and "1113" in response.text


def test_changelist_filters_by_status(admin_client, clone):
    assert "Findable" in admin_client.get("/admin/clones/clone/", {"status__exact": "failed"}).text
    assert "Findable" not in admin_client.get("/admin/clones/clone/", {"status__exact": "ready"}).text


def test_provider_ids_are_read_only(admin_client, clone):
    response = admin_client.get(f"/admin/clones/clone/{clone.pk}/change/")
    assert response.status_code == 200
    assert 'name="voice_id"' not in response.text and "3af4deae" in response.text


def run_action(admin_client, action, clones, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = admin_client.post(
            "/admin/clones/clone/", {"action": action, "_selected_action": [c.pk for c in clones]}, follow=True
        )
    assert response.status_code == 200
    return enqueued


def test_retry_failed_action_requeues_only_failed(admin_client, make_clone, django_capture_on_commit_callbacks):
    failed = make_clone(status=Clone.Status.FAILED, error_code="1305")
    ready = make_clone()
    enqueued = run_action(admin_client, "retry_failed", [failed, ready], django_capture_on_commit_callbacks)
    failed.refresh_from_db()
    assert failed.status == Clone.Status.QUEUED and failed.error_code == "" and len(enqueued) == 1


def test_refetch_preview_action_drops_the_stored_audio(admin_client, make_clone, django_capture_on_commit_callbacks):
    clone = make_clone()
    enqueued = run_action(admin_client, "refetch_preview", [clone], django_capture_on_commit_callbacks)
    clone.refresh_from_db()
    assert not clone.preview_audio and clone.status == Clone.Status.QUEUED and len(enqueued) == 1


def test_delete_at_provider_action_marks_deletion(admin_client, make_clone, django_capture_on_commit_callbacks):
    clone = make_clone()
    enqueued = run_action(admin_client, "delete_at_provider", [clone], django_capture_on_commit_callbacks)
    clone.refresh_from_db()
    assert clone.is_deleting and len(enqueued) == 1


def test_visibility_actions(admin_client, make_clone, django_capture_on_commit_callbacks):
    clone = make_clone()
    run_action(admin_client, "make_public", [clone], django_capture_on_commit_callbacks)
    clone.refresh_from_db()
    assert clone.visibility == Clone.Visibility.PUBLIC


def test_admin_says_whose_it_is_and_shows_the_quality_report_as_a_table(admin_client, clone):
    clone.quality = {"verdict": "good", "format": "wav", "duration": 8.0, "sample_rate": 24000, "channels": 1,
                     "kept_duration": 8.0, "kept_start": 0, "trimmed": False, "speech_duration": 7.2,
                     "loudness_lufs": -20.0, "peak_dbfs": -3.0, "clipping_percent": 0, "noise_floor_dbfs": -60.0,
                     "snr_db": 40.0, "advice": []}  # fmt: skip
    clone.save()
    index = admin_client.get("/admin/").text
    assert "Voiceclone administration" in index and "Django administration" not in index
    assert 'rel="icon" href="/static/clones/favicon.svg"' in index
    page = admin_client.get(f"/admin/clones/clone/{clone.pk}/change/").text
    assert '<table class="quality-table">' in page and "&quot;verdict&quot;" not in page
    # The stored files are the pipeline's: staff see them, and cannot swap them for others.
    assert 'name="sample"' not in page and 'name="preview_audio"' not in page
