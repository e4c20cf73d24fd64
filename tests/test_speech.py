"""Speaking text with a cloned or system voice, through the sandbox, over real HTTP, with a real worker."""

import io
import wave

import pytest
from django.urls import reverse

from clones import bigmodel, pipeline
from clones.models import Clone, Utterance
from clones.text import split_text
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank. "


@pytest.fixture
def voice_clone(sandbox, make_clone, user):
    """A ready clone whose voice exists on the sandbox."""
    clone = make_clone(status=Clone.Status.QUEUED)
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
        pipeline.process(clone, client)
    return clone


def speak(client, clone, **fields):
    form = {"text": "Hello there.", "speed": 1.0, "volume": 1.0, **fields}
    return client.post(reverse("clones:speak_with_clone", args=[clone.uuid]), form)


def wait_for(utterance):
    return wait_until(lambda: Utterance.objects.filter(pk=utterance.pk, status__in=["ready", "failed"]).first(), 90)


def wav_seconds(data):
    with wave.open(io.BytesIO(data)) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (24000, 1, 2)
        return audio.getnframes() / audio.getframerate()


@pytest.mark.worker
def test_short_text_in_a_cloned_voice(client, user, voice_clone, sandbox, celery_worker):
    client.force_login(user)
    assert speak(client, voice_clone, text="Good morning, this is my cloned voice.").status_code == 302
    utterance = wait_for(Utterance.objects.get())
    assert utterance.status == "ready" and utterance.parts == 1
    (call,) = sandbox.calls("audio.speech")
    assert call["status"] == 200
    response = client.get(utterance.get_audio_url() + "?download=1")
    assert response["Content-Disposition"].startswith("attachment;")
    assert 1 < wav_seconds(b"".join(response.streaming_content)) < 6
    page = client.get(voice_clone.get_absolute_url()).text
    assert "Good morning, this is my cloned voice." in page and "Download WAV" in page


@pytest.mark.worker
def test_long_text_is_split_spoken_and_joined(client, user, voice_clone, sandbox, celery_worker):
    client.force_login(user)
    short = SENTENCE
    long = SENTENCE * 78  # 5,070 characters: 15 sentences fit in a part, so six parts
    speak(client, voice_clone, text=short)
    single = wait_for(Utterance.objects.get())
    speak(client, voice_clone, text=long)
    joined = wait_for(Utterance.objects.exclude(pk=single.pk).get())
    assert joined.status == "ready" and joined.parts == len(split_text(long, 1024)) == 6
    assert len(sandbox.calls("audio.speech")) == 1 + 6
    seconds = wav_seconds(joined.audio.read())
    assert seconds == pytest.approx(joined.duration, abs=0.01)
    # Roughly additive: 78 sentences take about 78 times one sentence, plus short pauses.
    assert 0.8 * 78 * single.duration < seconds < 1.2 * 78 * single.duration + 6 * 0.3


def test_system_voice_works_before_any_clone(client, user, sandbox, celery_worker):
    client.force_login(user)
    page = client.get(reverse("clones:speak"))
    assert "Tongtong (default)" in page.text
    client.post(reverse("clones:speak"), {"voice": "tongtong", "text": "你好，欢迎使用。", "speed": 1.2, "volume": 2})
    utterance = wait_for(Utterance.objects.get())
    assert utterance.status == "ready" and utterance.system_voice == "tongtong"


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"speed": 0.4}, "Speed must be between 0.5 and 2."),
        ({"speed": 2.5}, "Speed must be between 0.5 and 2."),
        ({"volume": 0}, "Volume must be more than 0 and at most 10."),
        ({"volume": 10.5}, "Volume must be more than 0 and at most 10."),
        ({"text": "x" * 10_001}, "Keep the text to 10000 characters or fewer (it has 10001)."),
        ({"text": "   "}, "This field is required."),
    ],
)
def test_out_of_range_settings_are_refused(client, user, make_clone, fields, message):
    clone = make_clone(voice_id="3af4deae-494f-5af1-82a9-0643d4dba0ad")
    client.force_login(user)
    response = speak(client, clone, **fields)
    assert response.status_code == 400 and message in response.text
    assert Utterance.objects.count() == 0


def test_sandbox_refuses_out_of_range_speech_too(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as api:
        for bad in ({"speed": 0.4}, {"speed": 2.1}, {"volume": 0}, {"volume": 11}):
            with pytest.raises(bigmodel.InvalidRequest):
                api.speech(input="Hi.", voice="tongtong", model="glm-tts", **bad)


def test_who_may_speak(client, make_clone, user, other_user):
    clone = make_clone(visibility="public", voice_id="3af4deae-494f-5af1-82a9-0643d4dba0ad")
    client.force_login(other_user)
    assert speak(client, clone).status_code == 404  # public, but speech not allowed by the owner
    clone.allow_public_speech = True
    clone.save()
    assert speak(client, clone).status_code == 302
    client.logout()
    assert speak(client, clone).status_code == 302  # to the login page
    assert Utterance.objects.get().owner == other_user


def test_text_splitting_prefers_sentence_ends():
    text = "第一句话。" * 300 + "Second sentence! " * 100
    parts = split_text(text, 1024)
    assert all(len(part) <= 1024 for part in parts)
    assert all(part[-1] in "。!" for part in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
    assert split_text("y" * 2500, 1024) == ["y" * 1024, "y" * 1024, "y" * 452]
