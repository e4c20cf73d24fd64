"""The sandbox against the reference (docs/provider-notes.md): routes, validation, limits, error codes."""

import base64
import io
import json
import threading
import wave

import numpy as np
import pytest
import requests

from sandbox import voice
from sandbox.testing import running_sandbox
from tests.samples import mp3_bytes, wav_bytes, wav_duration


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_sandbox(tmp_path_factory.mktemp("sandbox-ref")) as server:
        yield server


@pytest.fixture
def api(server):
    server.reset()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.api_key}"
    session.base = server.base_url
    yield session
    server.clear_faults()


def error_of(response):
    return response.status_code, response.json()["error"]["code"]


def upload(api, data=None, purpose="voice-clone-input", name="s.wav"):
    return api.post(f"{api.base}/files", files={"file": (name, data or wav_bytes(4))}, data={"purpose": purpose})


def clone(api, **overrides):
    body = {
        "model": "glm-tts-clone",
        "voice_name": "vc_ref",
        "input": "Hello there, friend.",
        "file_id": upload(api).json()["id"],
        **overrides,
    }
    return api.post(f"{api.base}/voice/clone", json={k: v for k, v in body.items() if v is not None})


def preview_of(api, voice_name):
    """A clone's preview, fetched as the docs allow: through the voice list's download_url."""
    listed = api.get(f"{api.base}/voice/list", params={"voiceType": "PRIVATE", "voiceName": voice_name}).json()
    (entry,) = [v for v in listed["voice_list"] if v["voice_name"] == voice_name]
    return requests.get(entry["download_url"], timeout=10)


def median_f0(wav):
    return voice.estimate_f0(voice.decode(wav))


def test_missing_and_wrong_keys_are_401(server):
    assert error_of(requests.get(f"{server.base_url}/voice/list")) == (401, "1001")
    wrong = requests.get(f"{server.base_url}/voice/list", headers={"Authorization": "Bearer nope"})
    assert error_of(wrong) == (401, "1002")


def test_upload_answers_with_the_file_record(api):
    body = upload(api, mp3_bytes(4), name="mine.mp3").json()
    assert set(body) == {"id", "object", "bytes", "created_at", "filename", "purpose"}
    assert body["object"] == "file" and body["purpose"] == "voice-clone-input" and body["filename"] == "mine.mp3"
    stamp, rest = body["id"].split("-", 1)
    assert stamp.isdigit() and len(rest) == len("806700eb9d324ef89bae53574e1afd0c.mp3")


def test_upload_limits(api):
    # Over the clone's 10 MB: a parameter error; 435 is the file API's status for a file over 100 MB.
    assert error_of(upload(api, b"\0" * (10 * 1024 * 1024 + 1))) == (400, "1214")
    assert error_of(upload(api, b"plain text, not audio")) == (400, "1214")
    assert error_of(upload(api, purpose="fine-tune")) == (400, "1214")


@pytest.mark.parametrize("field", ["model", "voice_name", "input", "file_id"])
def test_clone_requires_each_field(api, field):
    assert error_of(clone(api, **{field: None})) == (400, "1213")


def test_clone_validation(api):
    assert error_of(clone(api, model="tts-9000")) == (400, "1211")
    assert error_of(clone(api, file_id="1768118482370-unknown.wav")) == (400, "1214")
    assert error_of(clone(api, input="x" * 1025)) == (400, "1261")
    assert error_of(clone(api, request_id="abc")) == (400, "1214")
    assert error_of(api.post(f"{api.base}/voice/clone", data="{not json")) == (400, "1210")


def test_clone_answers_opaque_ids_and_a_real_preview(api):
    body = clone(api, request_id="req-000001", text="a transcript").json()
    assert set(body) == {"voice", "file_id", "file_purpose", "request_id"}
    assert body["voice"] != "vc_ref" and len(body["voice"]) == 36
    assert body["file_purpose"] == "voice-clone-output" and body["request_id"] == "req-000001"
    preview = preview_of(api, "vc_ref")
    assert preview.headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(preview.content)) as audio:
        assert audio.getframerate() == 24000 and audio.getnchannels() == 1
        assert 0.5 < audio.getnframes() / 24000 < 5


def test_names_and_request_ids_cannot_be_reused(api):
    clone(api, request_id="req-000002")
    assert error_of(clone(api, voice_name="vc_other", request_id="req-000002")) == (400, "1231")
    assert error_of(clone(api, request_id="req-000003")) == (400, "1214")  # vc_ref exists


def test_preview_follows_the_sample_pitch(api):
    low = clone(api, voice_name="vc_low", file_id=upload(api, wav_bytes(4, f0=110)).json()["id"]).json()
    high = clone(api, voice_name="vc_high", file_id=upload(api, wav_bytes(4, f0=210)).json()["id"]).json()
    assert low["voice"] != high["voice"]
    low_f0 = median_f0(preview_of(api, "vc_low").content)
    high_f0 = median_f0(preview_of(api, "vc_high").content)
    assert 90 < low_f0 < 130 and 180 < high_f0 < 240


def test_unknown_file_content_is_a_parameter_error(api):
    assert error_of(api.get(f"{api.base}/files/nope.wav/content")) == (400, "1214")


def test_list_filters_and_download_url_needs_no_key(api):
    body = clone(api).json()
    private = api.get(f"{api.base}/voice/list", params={"voiceType": "PRIVATE", "voiceName": "ref"}).json()
    (listed,) = private["voice_list"]
    assert listed["voice"] == body["voice"] and listed["voice_name"] == "vc_ref"
    assert len(listed["create_time"]) == len("2026-01-01 00:00:00")
    assert requests.get(listed["download_url"]).content[:4] == b"RIFF"
    assert requests.get(listed["download_url"].split("?")[0]).status_code == 403
    official = api.get(f"{api.base}/voice/list", params={"voiceType": "OFFICIAL"}).json()["voice_list"]
    assert {"tongtong", "luodo"} <= {v["voice"] for v in official}


def test_delete_then_list(api):
    voice_id = clone(api).json()["voice"]
    deleted = api.post(f"{api.base}/voice/delete", json={"voice": voice_id}).json()
    assert deleted["voice"] == voice_id and deleted["update_time"]
    assert api.get(f"{api.base}/voice/list", params={"voiceType": "PRIVATE"}).json() == {"voice_list": []}
    assert error_of(api.post(f"{api.base}/voice/delete", json={"voice": voice_id})) == (400, "1214")
    assert error_of(api.post(f"{api.base}/voice/delete", json={})) == (400, "1213")


def test_speech_formats_and_bounds(api):
    def speak(**overrides):
        return api.post(
            f"{api.base}/audio/speech",
            json={"model": "glm-tts", "input": "Hi there, how are you today?", "voice": "tongtong", **overrides},
        )

    assert speak(response_format="wav").content[:4] == b"RIFF"
    pcm = speak().content
    assert len(pcm) % 2 == 0 and len(pcm) > 24000
    for bad in (
        {"speed": 0.4},
        {"speed": 2.1},
        {"volume": 0},
        {"volume": 10.5},
        {"response_format": "mp3"},
        {"voice": "nobody"},
    ):
        assert error_of(speak(**bad)) == (400, "1214"), bad
    assert error_of(speak(input="x" * 1025)) == (400, "1261")
    assert error_of(speak(model="tts-9000")) == (400, "1211")
    stream = speak(stream=True)
    events = [line[6:] for line in stream.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [base64.b64decode(json.loads(e)["choices"][0]["delta"]["content"]) for e in events[:-1]]
    assert abs(len(b"".join(chunks)) - len(pcm)) < 4800


def test_transcription_returns_the_synthesized_text(api):
    wav = api.post(
        f"{api.base}/audio/speech",
        json={"model": "glm-tts", "input": "Read me back.", "voice": "jam", "response_format": "wav"},
    ).content
    answer = api.post(
        f"{api.base}/audio/transcriptions", files={"file": ("a.wav", wav)}, data={"model": "glm-asr-2512"}
    ).json()
    assert answer["text"] == "Read me back." and answer["model"] == "glm-asr-2512"
    too_long = api.post(
        f"{api.base}/audio/transcriptions", files={"file": ("a.wav", wav_bytes(31))}, data={"model": "glm-asr-2512"}
    )
    assert error_of(too_long) == (400, "1214")


def test_its_own_speech_over_30_seconds_is_refused_too(api):
    """The sandbox knows its own WAVs by their digest without decoding them; the 30 s limit still holds."""
    text = " ".join(["The ferry waited on the far bank for three long days."] * 12)
    wav = api.post(
        f"{api.base}/audio/speech", json={"model": "glm-tts", "input": text, "voice": "jam", "response_format": "wav"}
    ).content
    assert wav_duration(wav) > 30
    answer = api.post(
        f"{api.base}/audio/transcriptions", files={"file": ("a.wav", wav)}, data={"model": "glm-asr-2512"}
    )
    assert error_of(answer) == (400, "1214")


def test_fault_rules_error_drop_malformed_and_counts(api, server):
    server.set_faults(
        [
            {"route": "voice.list", "action": "error", "status": 429, "code": "1302", "retry_after": 3, "skip": 1},
            {"route": "files.upload", "action": "drop"},
            {"route": "voice.clone", "action": "drop_after"},
            {"route": "voice.delete", "action": "malformed"},
        ]
    )
    assert api.get(f"{api.base}/voice/list").status_code == 200  # skipped once
    limited = api.get(f"{api.base}/voice/list")
    assert error_of(limited) == (429, "1302") and limited.headers["Retry-After"] == "3"
    assert api.get(f"{api.base}/voice/list").status_code == 200  # times: 1 used up
    with pytest.raises(requests.ConnectionError):
        upload(api)
    with pytest.raises(requests.ConnectionError):
        clone(api)
    assert [v["voice_name"] for v in server.voices()] == ["vc_ref"]  # the work was done
    with pytest.raises(ValueError):
        api.post(f"{api.base}/voice/delete", json={"voice": "x"}).json()
    assert [c["status"] for c in server.calls("files.upload")] == [None, 200]


def test_state_survives_a_restart(tmp_path):
    with running_sandbox(tmp_path) as first:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer sandbox"
        session.base = first.base_url
        voice_id = clone(session).json()["voice"]
    with running_sandbox(tmp_path) as second:
        assert [v["voice"] for v in second.voices()] == [voice_id]


def test_concurrency_cap_answers_429_1302(tmp_path):
    with running_sandbox(tmp_path, max_concurrency=1, latency=0.3) as server:
        headers = {"Authorization": "Bearer sandbox"}
        results = []

        def call():
            results.append(requests.get(f"{server.base_url}/voice/list", headers=headers))

        threads = [threading.Thread(target=call) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted(r.status_code for r in results)
        assert codes[0] == 200 and 429 in codes
        assert all(error_of(r) == (429, "1302") for r in results if r.status_code == 429)


def test_f0_estimate_is_accurate_on_tones():
    for f0 in (100, 150, 220):
        samples, rate = np.sin(2 * np.pi * f0 * np.arange(16000) / 16000).astype(np.float32), 16000
        assert abs(voice.estimate_f0(samples, rate) - f0) < 5
