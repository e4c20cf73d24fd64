"""Transcript help: the provider's speech recognition fills in what the sample says."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.audio_corpus import encode, speech_like
from tests.samples import wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def real_provider(settings):
    """As with a real account: the sandbox server stands in for the provider, but the site is not in
    sandbox mode (which has no speech recognition: see the last test)."""
    settings.BIGMODEL_SANDBOX = False


def transcribe(client, data):
    return client.post(reverse("clones:transcribe"), {"sample": SimpleUploadedFile("s.wav", data)})


def test_recognized_text_comes_back(client, user, sandbox):
    client.force_login(user)
    response = transcribe(client, wav_bytes(4))
    assert response.status_code == 200 and response.json()["text"]
    assert [c["status"] for c in sandbox.calls("audio.transcriptions")] == [200]


def test_any_accepted_format_is_sent_as_the_prepared_wav(client, user, sandbox):
    """An Ogg Vorbis recording of 40 s: recognition gets the WAV we would upload, trimmed to 30 s."""
    client.force_login(user)
    samples, rate = speech_like(40)
    response = transcribe(client, encode(samples, rate, container="ogg", codec="vorbis", channels=2))
    assert response.status_code == 200 and response.json()["text"]
    assert [c["status"] for c in sandbox.calls("audio.transcriptions")] == [200]


def test_bad_samples_are_refused_before_calling_the_provider(client, user, sandbox):
    client.force_login(user)
    assert transcribe(client, b"not audio").json() == {
        "error": "This is a text file or web page, not an audio recording."
    }
    assert transcribe(client, wav_bytes(2)).json() == {
        "error": "The sample is 2.0 s long; it needs at least 3 s of speech."
    }
    assert sandbox.calls("audio.transcriptions") == []


def test_needs_login(client, sandbox):
    assert transcribe(client, wav_bytes(4)).status_code == 302


def test_sandbox_mode_fills_in_no_transcript(client, user, sandbox, settings):
    """The sandbox answers every sample with the same Chinese sentence: that is not what an English
    sample says, so in sandbox mode nothing is filled in and the page says so."""
    settings.BIGMODEL_SANDBOX = True
    client.force_login(user)
    response = transcribe(client, wav_bytes(4))
    assert response.status_code == 409 and "text" not in response.json()
    assert "no speech recognition in sandbox mode" in response.json()["error"]
    assert sandbox.calls("audio.transcriptions") == []
    page = client.get(reverse("clones:create")).text
    assert 'id="transcribe"' not in page and "no speech recognition to fill in the transcript" in page
