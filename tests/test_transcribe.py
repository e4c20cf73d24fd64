"""Transcript help: the provider's speech recognition fills in what the sample says."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.samples import wav_bytes

pytestmark = pytest.mark.django_db


def transcribe(client, data):
    return client.post(reverse("clones:transcribe"), {"sample": SimpleUploadedFile("s.wav", data)})


def test_recognized_text_comes_back(client, user, sandbox):
    client.force_login(user)
    response = transcribe(client, wav_bytes(4))
    assert response.status_code == 200 and response.json()["text"]
    assert [c["status"] for c in sandbox.calls("audio.transcriptions")] == [200]


def test_limits_are_checked_before_calling_the_provider(client, user, sandbox):
    client.force_login(user)
    assert transcribe(client, wav_bytes(31)).json() == {"error": "Speech recognition takes WAV or MP3 of at most 30 s."}
    assert transcribe(client, b"not audio").status_code == 400
    assert sandbox.calls("audio.transcriptions") == []


def test_needs_login(client, sandbox):
    assert transcribe(client, wav_bytes(4)).status_code == 302
