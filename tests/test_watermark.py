"""The provider's audible watermark: sent as asked, found at the start of speech, kept once when parts join."""

import io
import wave

import numpy as np
import pytest
from django.urls import reverse

from clones import bigmodel, watermark
from clones.audio import SPEECH_RATE, join_speech
from clones.models import Utterance
from tests.conftest import wait_until

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank. "


def samples_of(data):
    with wave.open(io.BytesIO(data)) as audio:
        return np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2"), audio.getframerate()


def speak(sandbox, text, **kwargs):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key, **kwargs) as client:
        return client.speech(input=text, voice="tongtong", model="glm-tts")


@pytest.mark.parametrize("enabled", [True, False])
def test_the_tone_is_at_the_start_of_speech_exactly_when_the_watermark_is_asked_for(sandbox, enabled):
    samples, rate = samples_of(speak(sandbox, SENTENCE, watermark=enabled))
    assert watermark.has_leading_tone(samples, rate) is enabled
    if enabled:
        assert 0.3 < watermark.leading_tone_end(samples, rate) / rate < 1.0
        assert all(start < 1.0 for start in watermark.tone_seconds(samples, rate))


@pytest.mark.parametrize(
    "text",
    [
        SENTENCE * 3,
        "你好，欢迎使用。谢谢，小心，学习，星期四，十四。",
        "Sissy says psst, shh, whistle, fizz, sixty six.",
    ],
)
def test_speech_itself_is_never_taken_for_the_tone(sandbox, text):
    samples, rate = samples_of(speak(sandbox, text, watermark=False))
    assert watermark.leading_tone_end(samples, rate) == 0
    assert watermark.tone_seconds(samples, rate) == []
    assert len(watermark.trim_leading_tone(samples, rate)) == len(samples)


def test_joined_parts_keep_the_first_mark_and_lose_the_others(sandbox):
    parts = [speak(sandbox, f"Part {n}. " + SENTENCE) for n in range(3)]
    data, seconds = join_speech(parts, 0.3)
    samples, rate = samples_of(data)
    assert rate == SPEECH_RATE and watermark.has_leading_tone(samples, rate)
    assert watermark.tone_seconds(samples, rate) and all(t < 1.0 for t in watermark.tone_seconds(samples, rate))
    # What was cut is the lead-in of parts two and three, nothing more.
    lengths = [len(samples_of(part)[0]) for part in parts]
    lead_ins = [watermark.leading_tone_end(samples_of(part)[0], rate) for part in parts[1:]]
    assert len(samples) == sum(lengths) - sum(lead_ins) + 2 * int(0.3 * rate)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_long_utterance_beeps_once_at_its_start(client, user, sandbox, celery_worker):
    client.force_login(user)
    text = SENTENCE * 40  # three parts
    client.post(reverse("clones:speak"), {"voice": "tongtong", "text": text, "speed": 1, "volume": 1})
    utterance = wait_until(lambda: Utterance.objects.filter(status__in=["ready", "failed"]).first(), 90)
    assert utterance.status == "ready" and utterance.parts == 3
    samples, rate = samples_of(utterance.audio.read())
    beeps = watermark.tone_seconds(samples, rate)
    assert beeps and all(start < 1.0 for start in beeps)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "enabled, words", [(True, "marked as AI-generated"), (False, "say so wherever you publish it")]
)
def test_the_speech_page_says_generated_audio_is_ai_generated(client, user, settings, enabled, words):
    settings.BIGMODEL_WATERMARK = enabled
    client.force_login(user)
    assert words in client.get(reverse("clones:speak")).text


def test_a_streaming_join_trims_every_part_but_the_first_chunk_by_chunk(sandbox):
    parts = [samples_of(speak(sandbox, f"Part {n}. " + SENTENCE))[0] for n in range(3)]
    rate = SPEECH_RATE
    for index, part in enumerate(parts):
        chunks = [part[start : start + 1024] for start in range(0, len(part), 1024)]  # one decoded frame each
        kept = np.concatenate(list(watermark.trim_part_chunks(index, chunks, rate)))
        expected = part if index == 0 else watermark.trim_leading_tone(part, rate)
        assert np.array_equal(kept, expected)
        assert watermark.has_leading_tone(kept, rate) is (index == 0)
