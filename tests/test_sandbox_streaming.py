"""Streamed speech from the sandbox: server-sent events shaped as the official SDK reads them."""

import base64
import json
import time

import numpy as np
import pytest
import requests

from sandbox import voice
from sandbox.testing import running_sandbox
from tests.sandbox_api import api_session

TEXT = "The first words come out while the rest is still being made, one chunk at a time."


@pytest.fixture
def api(sandbox):
    return api_session(sandbox)


def stream(api, **overrides):
    body = {"model": "glm-tts", "input": TEXT, "voice": "tongtong", "stream": True, **overrides}
    return api.post(f"{api.base}/audio/speech", json=body, stream=True)


def events_of(response):
    lines = [line for line in response.iter_lines(decode_unicode=True) if line]
    assert all(line.startswith("data: ") for line in lines)
    return [line[len("data: ") :] for line in lines]


def test_chunks_have_the_sdk_shape_and_end_with_stop_then_done(api):
    response = stream(api, request_id="speech-req-1")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    events = events_of(response)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert len(chunks) > 5
    for chunk in chunks:
        assert chunk["request_id"] == "speech-req-1" and isinstance(chunk["created"], int)
        (choice,) = chunk["choices"]
        assert choice["index"] == 0 and choice["delta"]["return_sample_rate"] == 24000
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    assert chunks[-1]["choices"][0]["delta"]["content"] == ""
    pcm = b"".join(base64.b64decode(c["choices"][0]["delta"]["content"]) for c in chunks)
    samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768
    assert voice.watermark_present(samples, 24000)
    # As long as the whole reply (eSpeak varies by a few milliseconds from call to call).
    whole = api.post(f"{api.base}/audio/speech", json={"model": "glm-tts", "input": TEXT, "voice": "tongtong"})
    assert abs(len(pcm) - len(whole.content)) < 0.1 * 24000 * 2
    # And it is heard back as the text it says.
    wav = voice.to_wav(samples)
    heard = api.post(f"{api.base}/audio/transcriptions", files={"file": ("s.wav", wav)}, data={"model": "glm-asr-2512"})
    assert heard.json()["text"] == TEXT


def test_hex_encoding_and_no_watermark(api):
    chunks = [json.loads(e) for e in events_of(stream(api, encode_format="hex", watermark_enabled=False))[:-1]]
    pcm = b"".join(bytes.fromhex(c["choices"][0]["delta"]["content"]) for c in chunks)
    samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768
    assert len(samples) > 24000 and not voice.watermark_present(samples, 24000)


def test_streaming_needs_pcm_and_bad_input_is_refused_before_streaming(api):
    refused = stream(api, response_format="wav")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "1214"
    assert stream(api, encode_format="base32").json()["error"]["code"] == "1214"
    assert stream(api, voice="nobody").json()["error"]["code"] == "1214"


def test_the_first_chunk_comes_before_the_speech_is_finished(tmp_path):
    # Paced at real time: a chunk of 0.2 s goes out every 0.2 s, so the call is still in flight
    # (not finished, its stream incomplete) when the client holds the first chunk.
    with running_sandbox(tmp_path, stream_pace=1.0, first_chunk_latency=0.1) as sandbox:
        headers = {"Authorization": "Bearer sandbox"}
        body = {"model": "glm-tts", "input": TEXT, "voice": "jam", "stream": True}
        with requests.post(f"{sandbox.base_url}/audio/speech", json=body, headers=headers, stream=True) as response:
            first = next(line for line in response.iter_lines() if line)
            assert json.loads(first[6:])["choices"][0]["delta"]["content"]
            (call,) = sandbox.calls("audio.speech")
            assert call["stream"]["complete"] is False and "finished_at" not in call
        # The client went away mid-stream: the sandbox stops making the rest.
        (call,) = sandbox.calls("audio.speech")
        for _ in range(50):
            if "finished_at" in call:
                break
            time.sleep(0.1)
            (call,) = sandbox.calls("audio.speech")
        assert call["stream"]["complete"] is False and call["finished_at"]


def test_first_chunk_latency_can_be_a_fault_and_streams_count_as_in_flight(tmp_path):
    # Paced at real time, the stream lasts seconds after its first chunk: time for the second call.
    with running_sandbox(tmp_path, max_concurrency=1, stream_pace=1.0) as sandbox:
        sandbox.set_faults([{"route": "audio.speech", "action": "delay", "first_chunk_latency": 1.0}])
        headers = {"Authorization": "Bearer sandbox"}
        body = {"model": "glm-tts", "input": "Wait for it.", "voice": "jam", "stream": True}
        with requests.post(f"{sandbox.base_url}/audio/speech", json=body, headers=headers, stream=True) as response:
            assert response.status_code == 200
            # While the stream is open (its first chunk is held back), a second call is over the cap.
            other = requests.get(f"{sandbox.base_url}/voice/list", headers=headers, timeout=10)
            assert other.status_code == 429 and other.json()["error"]["code"] == "1302"
            assert events_of(response)[-1] == "[DONE]"
        (call,) = sandbox.calls("audio.speech")
        assert call["stream"]["complete"] is True


def test_a_stream_can_break_with_an_error_event_or_a_dropped_connection(api, sandbox):
    sandbox.set_faults([{"route": "audio.speech", "action": "stream_error", "after_chunks": 3, "code": "1234"}])
    events = events_of(stream(api, request_id="broken-1"))
    assert len(events) == 4 and "[DONE]" not in events
    assert [json.loads(e)["choices"][0]["delta"]["content"] != "" for e in events[:3]] == [True] * 3
    last = json.loads(events[-1])
    assert last["error"]["code"] == "1234" and last["request_id"] == "broken-1"
    (call,) = sandbox.calls("audio.speech")
    assert call["stream"]["broken"] == "stream_error" and call["stream"]["complete"] is False

    sandbox.reset()
    sandbox.set_faults([{"route": "audio.speech", "action": "stream_drop", "after_chunks": 2}])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        events_of(stream(api))
    (call,) = sandbox.calls("audio.speech")
    assert call["stream"]["broken"] == "stream_drop" and call["stream"]["chunks"] == 2
