"""The whole clone flow through the web form, a real Celery worker process and the sandbox."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clones.models import Clone
from tests.conftest import wait_until
from tests.samples import wav_bytes, wav_duration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def client(client, user):
    client.force_login(user)
    return client


def submit_and_wait(client, preview_text="Hello, this is my new voice speaking."):
    response = client.post(
        reverse("clones:create"),
        {
            "language": "en",
            "visibility": "private",
            "consent": "on",
            "name": "Flow",
            "preview_text": preview_text,
            "transcript": "",
            "sample": SimpleUploadedFile("s.wav", wav_bytes(5)),
        },
    )
    assert response.status_code == 302
    status_url = response["Location"] + "status/"

    def finished():
        state = client.get(status_url).json()
        return state if state["finished"] else None

    return Clone.objects.get(), wait_until(finished, timeout=60)


def test_submit_poll_ready_and_play_preview(client, sandbox, celery_worker):
    clone, state = submit_and_wait(client)
    assert state["status"] == "ready", state
    assert all(step["done"] for step in state["steps"])
    response = client.get(state["preview_url"])
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    audio = b"".join(response.streaming_content)
    assert audio[:4] == b"RIFF"
    # eSpeak reads 7 words in roughly 2 to 4 seconds.
    assert 1.0 < wav_duration(audio) < 8.0
    clone.refresh_from_db()
    assert clone.attempts == 1 and len(sandbox.voices()) == 1


def test_rate_limit_is_retried_to_ready_with_one_voice(client, sandbox, celery_worker):
    sandbox.set_faults([{"route": "voice.clone", "action": "error", "status": 429, "code": "1302", "times": 2}])
    clone, state = submit_and_wait(client)
    assert state["status"] == "ready", state
    assert len(sandbox.calls("voice.clone")) == 3
    clone.refresh_from_db()
    assert clone.attempts == 3 and [v["voice"] for v in sandbox.voices()] == [clone.voice_id]


def test_content_policy_fails_at_once_with_a_readable_reason(client, sandbox, celery_worker):
    sandbox.set_faults([{"route": "voice.clone", "action": "error", "status": 400, "code": "1301", "times": None}])
    clone, state = submit_and_wait(client)
    assert state["status"] == "failed"
    assert state["failure_reason"] == "The voice service refused this content under its content policy."
    assert len(sandbox.calls("voice.clone")) == 1
    page = client.get(clone.get_absolute_url())
    assert "The clone failed." in page.text and "content policy" in page.text
