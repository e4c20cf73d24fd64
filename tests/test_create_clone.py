"""Submitting the clone form: good samples are queued, bad ones are refused with nothing left behind."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clones.models import Clone
from tests.samples import mp3_bytes, wav_bytes

# Inside a test transaction on_commit callbacks are captured, never run: nothing reaches a worker.
pytestmark = pytest.mark.django_db


def stored_files():
    media = Path(settings.MEDIA_ROOT)
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


@pytest.fixture
def submit(client, user, django_capture_on_commit_callbacks):
    """Post the form; the response comes with the jobs it asked to enqueue on commit."""

    def submit(data, filename="sample.wav", **fields):
        client.force_login(user)
        form = {
            "name": "My voice",
            "preview_text": "Hello from my cloned voice.",
            "transcript": "",
            "language": "en",
            "visibility": "private",
            "consent": "on",
            **fields,
        }
        form["sample"] = SimpleUploadedFile(filename, data)
        with django_capture_on_commit_callbacks(execute=False) as enqueued:
            response = client.post(reverse("clones:create"), form)
        response.enqueued = enqueued
        return response

    return submit


def test_creating_a_clone_needs_login(client):
    response = client.get(reverse("clones:create"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_form_page_shows_sandbox_banner(client, user):
    client.force_login(user)
    response = client.get(reverse("clones:create"))
    assert response.status_code == 200
    assert "Sandbox mode: previews are synthesized locally and are not real clones." in response.text


def test_wav_sample_creates_queued_clone_and_enqueues_once(submit):
    response = submit(wav_bytes(5), transcript="Some words.")
    clone = Clone.objects.get()
    assert response.status_code == 302 and response["Location"] == clone.get_absolute_url()
    assert clone.status == Clone.Status.QUEUED
    assert (clone.sample_format, clone.sample_duration) == ("wav", 5.0)
    assert clone.original.name == f"originals/{clone.uuid}.wav"
    assert clone.provider_model == "glm-tts-clone"
    assert clone.voice_name.startswith("vc_") and clone.voice_name != clone.name
    assert clone.sample.name == f"samples/{clone.uuid}.wav"
    assert clone.owner.username == "ada" and clone.visibility == "private"
    assert clone.consent_by == clone.owner and clone.consent_at
    assert len(response.enqueued) == 1


def test_consent_is_required_and_stored(submit):
    response = submit(wav_bytes(4), consent="")
    assert "Please confirm that you have the right to clone this voice." in response.text
    assert Clone.objects.count() == 0 and response.enqueued == []


def test_tags_are_cleaned_and_shared(submit):
    submit(wav_bytes(4), tags="Narrator, calm ,narrator,， Deep  voice")
    assert sorted(t.name for t in Clone.objects.get().tags.all()) == ["calm", "deep voice", "narrator"]


def test_mp3_sample_is_accepted_whatever_its_name(submit):
    submit(mp3_bytes(4), filename="../../etc/passwd.txt")
    clone = Clone.objects.get()
    # Stored names are ours: the original keeps the format found in its bytes; we upload a WAV made from it.
    assert clone.original.name == f"originals/{clone.uuid}.mp3"
    assert clone.sample.name == f"samples/{clone.uuid}.wav" and clone.sample_format == "wav"
    assert sorted(p.relative_to(settings.MEDIA_ROOT).as_posix() for p in stored_files()) == sorted(
        [clone.original.name, clone.sample.name]
    )


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty."),
        (b"just some text, not audio at all" * 20, "This is a text file or web page, not an audio recording."),
        (wav_bytes(2), "The sample is 2.0 s long; it needs at least 3 s of speech."),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40, "This file is not audio we can read, or it is damaged."),
    ],
    ids=["empty", "text", "too-short", "truncated-wav"],
)
def test_bad_samples_are_refused_leaving_nothing(submit, data, message):
    response = submit(data)
    assert response.status_code == 200
    assert message in response.text
    assert Clone.objects.count() == 0
    assert stored_files() == []
    assert response.enqueued == []


def test_oversized_sample_is_refused(submit, settings):
    settings.SAMPLE_MAX_BYTES = 100_000
    response = submit(wav_bytes(5))
    # The upload handler stops reading at the limit, so the file never arrives whole.
    assert "The file is larger than the limit of 97.7\xa0KB." in response.text
    assert Clone.objects.count() == 0 and response.enqueued == []


def test_preview_text_is_required(submit):
    response = submit(wav_bytes(4), preview_text="   ")
    assert "Please enter a text for the preview." in response.text or "This field is required." in response.text
    assert Clone.objects.count() == 0


def test_clone_names_are_escaped(submit, client):
    submit(wav_bytes(4), name="<script>alert(1)</script>")
    page = client.get(Clone.objects.get().get_absolute_url())
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
