"""The OpenAI-compatible `POST /v1/audio/speech`, driven by OpenAI's own Python package against a
running server (pytest-django's live server) and the sandbox, over real HTTP."""

import io
import wave

import av
import numpy as np
import openai
import pytest

from accounts.models import ApiToken, Usage
from clones import bigmodel, pipeline
from clones.models import Clone, Utterance
from tests.test_streaming import settled_calls

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "Every client that speaks to OpenAI can now speak with a cloned voice."


@pytest.fixture
def voice_clone(sandbox, make_clone):
    clone = make_clone(status=Clone.Status.QUEUED, name="Narrator")
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
        pipeline.process(clone, client)
    return clone


@pytest.fixture
def client(live_server, api_token):
    with openai.OpenAI(base_url=live_server.url + "/v1", api_key=api_token, max_retries=0) as client:
        yield client


def stored_frames(utterance):
    with utterance.audio.open("rb") as stored, wave.open(io.BytesIO(stored.read())) as audio:
        return audio.readframes(audio.getnframes())


def test_speech_create_with_a_clone_by_name_answers_wav_and_stores_the_take(client, voice_clone, sandbox):
    speech = client.audio.speech.create(model="tts-1", voice="Narrator", input=TEXT, response_format="wav")
    data = speech.content
    assert speech.response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(data)) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (24000, 1, 2)
    utterance = Utterance.objects.get()
    assert utterance.clone == voice_clone and utterance.status == "ready" and utterance.text == TEXT
    assert stored_frames(utterance) == data[44:]
    (call,) = settled_calls(sandbox, 1)
    assert call["stream"]["complete"] is True
    # The speech is charged once; its check (a worker's task, when one runs) is charged as a kind of its own.
    speech = Usage.objects.filter(kind=Usage.Kind.SPEECH_CHARS)
    assert list(speech.values_list("amount", flat=True)) == [len(TEXT)]


def test_with_streaming_response_mp3_by_clone_id_decodes_to_the_stored_take(client, voice_clone, sandbox):
    with client.audio.speech.with_streaming_response.create(
        model="glm-tts", voice=str(voice_clone.uuid), input=TEXT, response_format="mp3", speed=1.5
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        chunks = list(response.iter_bytes())
    mp3 = b"".join(chunks)
    with av.open(io.BytesIO(mp3)) as container:
        assert container.format.name == "mp3"
        samples = sum(frame.samples for frame in container.decode(audio=0))
    utterance = Utterance.objects.get()
    assert utterance.speed == 1.5
    # The encoder's padding aside, the MP3 holds the whole take.
    assert abs(samples - len(stored_frames(utterance)) / 2) < 0.1 * 24000


def test_pcm_in_a_system_voice_is_the_raw_take(client, sandbox):
    speech = client.audio.speech.create(model="gpt-4o-mini-tts", voice="jam", input=TEXT, response_format="pcm")
    utterance = Utterance.objects.get()
    assert utterance.system_voice == "jam" and speech.content == stored_frames(utterance)
    assert np.abs(np.frombuffer(speech.content, "<i2")).max() > 1000  # speech, not silence


def test_errors_are_shaped_as_openai_clients_read_them(client, live_server, voice_clone, make_clone, other_user):
    with pytest.raises(openai.AuthenticationError) as denied:
        with openai.OpenAI(base_url=live_server.url + "/v1", api_key="vc_wrong", max_retries=0) as stranger:
            stranger.audio.speech.create(model="tts-1", voice="jam", input=TEXT)
    assert denied.value.code == "invalid_api_key"

    make_clone(other_user, name="Secret")  # private: not for us
    with pytest.raises(openai.BadRequestError) as unknown:
        client.audio.speech.create(model="tts-1", voice="Secret", input=TEXT)
    assert unknown.value.code == "voice_not_found" and unknown.value.param == "voice"
    assert unknown.value.body["type"] == "invalid_request_error"

    with pytest.raises(openai.BadRequestError) as model:
        client.audio.speech.create(model="whisper-1", voice="jam", input=TEXT)
    assert model.value.param == "model" and model.value.code == "model_not_found"

    with pytest.raises(openai.BadRequestError) as speed:
        client.audio.speech.create(model="tts-1", voice="jam", input=TEXT, speed=4)
    assert speed.value.param == "speed" and "between 0.5 and 2" in speed.value.message

    with pytest.raises(openai.BadRequestError) as audio_format:
        client.audio.speech.create(model="tts-1", voice="jam", input=TEXT, response_format="opus")
    assert audio_format.value.param == "response_format"
    assert not Utterance.objects.exists() and not Usage.objects.exists()


def test_a_public_clone_that_allows_speech_is_anyones_voice(live_server, voice_clone, other_user, sandbox):
    voice_clone.visibility, voice_clone.allow_public_speech = Clone.Visibility.PUBLIC, True
    voice_clone.save()
    secret = ApiToken.issue(other_user, "theirs")[1]
    with openai.OpenAI(base_url=live_server.url + "/v1", api_key=secret, max_retries=0) as theirs:
        theirs.audio.speech.create(model="tts-1", voice="Narrator", input=TEXT, response_format="wav").read()
    utterance = Utterance.objects.get()
    assert utterance.owner == other_user and utterance.clone == voice_clone


def test_quota_is_a_429_before_anything_is_spoken(client, settings, sandbox):
    settings.QUOTA_SPEECH_CHARS_PER_DAY = 10
    with pytest.raises(openai.RateLimitError) as refused:
        client.audio.speech.create(model="tts-1", voice="jam", input=TEXT)
    assert refused.value.code == "quota_exceeded" and refused.value.body["type"] == "insufficient_quota"
    assert not sandbox.calls("audio.speech") and not Utterance.objects.exists()
