"""The BigModel client against the sandbox, over real HTTP on loopback: every call, every error class."""

import io

import pytest

from clones import bigmodel
from clones.models import SYSTEM_VOICES
from tests.samples import wav_bytes


@pytest.fixture
def client(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key, read_timeout=5) as client:
        yield client


def upload(client, seconds=4, f0=120):
    return client.upload_file(io.BytesIO(wav_bytes(seconds, f0=f0)), "sample.wav")


def clone(client, name="vc_client_test", **kwargs):
    file_id = upload(client).id
    return client.clone_voice(voice_name=name, input="Hello there.", file_id=file_id, model="glm-tts-clone", **kwargs)


def test_upload_returns_file_record(client):
    uploaded = upload(client)
    assert uploaded.id and uploaded.purpose == "voice-clone-input"
    assert uploaded.bytes == len(wav_bytes(4))


def test_clone_returns_opaque_voice_id_and_preview_file(client):
    result = clone(client, name="vc_opaque", text="A transcript.")
    assert result.voice and result.voice != "vc_opaque"
    assert result.file_id
    # As documented, file content serves batch files only: the preview comes through the voice list.
    with pytest.raises(bigmodel.InvalidRequest):
        client.file_content(result.file_id)
    preview = client.download(client.find_voice("vc_opaque").download_url)
    assert preview[:4] == b"RIFF" and preview[8:12] == b"WAVE"


def test_list_finds_voice_by_name_and_download_needs_no_key(client, sandbox):
    result = clone(client, name="vc_listed")
    voices = client.list_voices(voice_type="PRIVATE", voice_name="vc_listed")
    assert [v.voice for v in voices] == [result.voice]
    assert voices[0].voice_type == "PRIVATE" and voices[0].create_time
    assert client.download(voices[0].download_url)[:4] == b"RIFF"


def test_official_voices_are_listed(client):
    names = {v.voice for v in client.list_voices(voice_type="OFFICIAL")}
    assert set(dict(SYSTEM_VOICES)) <= names


def test_delete_removes_voice(client):
    result = clone(client, name="vc_deleted")
    deleted = client.delete_voice(result.voice)
    assert deleted.voice == result.voice and deleted.update_time
    assert client.list_voices(voice_name="vc_deleted") == []


def test_speech_returns_wav(client):
    audio = client.speech(input="Good morning.", voice="tongtong", model="glm-tts")
    assert audio[:4] == b"RIFF"


def test_transcribe_returns_text(client):
    assert client.transcribe(io.BytesIO(wav_bytes(4)), "sample.wav")


def test_reusing_a_request_id_is_a_permanent_error(client):
    clone(client, name="vc_first", request_id="req-123456")
    with pytest.raises(bigmodel.InvalidRequest) as caught:
        clone(client, name="vc_second", request_id="req-123456")
    assert caught.value.code == "1231" and not caught.value.retryable


def test_wrong_key_is_an_authentication_error(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, "not-the-key") as client:
        with pytest.raises(bigmodel.AuthenticationFailed) as caught:
            client.list_voices()
    assert caught.value.status == 401 and caught.value.code == "1002"
    assert "not-the-key" not in str(caught.value)


@pytest.mark.parametrize(
    "status, code, error_class, retryable",
    [
        (429, "1302", bigmodel.RateLimited, True),
        (429, "1305", bigmodel.RateLimited, True),
        (429, "1113", bigmodel.AccountProblem, False),
        (429, "1304", bigmodel.QuotaExhausted, False),
        (500, "1234", bigmodel.ServerError, True),
        (503, None, bigmodel.ServerError, True),
        (400, "1214", bigmodel.InvalidRequest, False),
        (400, "1301", bigmodel.ContentRejected, False),
        (401, "1002", bigmodel.AuthenticationFailed, False),
    ],
)
def test_provider_errors_map_to_classes(client, sandbox, status, code, error_class, retryable):
    rule = {"route": "voice.list", "action": "error", "status": status, "message": "injected"}
    if code:
        rule["code"] = code
    sandbox.set_faults([rule])
    with pytest.raises(error_class) as caught:
        client.list_voices()
    assert caught.value.retryable is retryable
    assert caught.value.status == status and caught.value.code == code


def test_retry_after_is_read(client, sandbox):
    sandbox.set_faults([{"route": "voice.list", "action": "error", "status": 429, "code": "1302", "retry_after": 7}])
    with pytest.raises(bigmodel.RateLimited) as caught:
        client.list_voices()
    assert caught.value.retry_after == 7


def test_dropped_connection_is_retryable(client, sandbox):
    sandbox.set_faults([{"route": "files.upload", "action": "drop"}])
    with pytest.raises(bigmodel.ConnectionFailed) as caught:
        upload(client)
    assert caught.value.retryable


def test_slow_answer_times_out(sandbox):
    sandbox.set_faults([{"route": "voice.list", "action": "delay", "latency": 2}])
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key, read_timeout=0.5) as client:
        with pytest.raises(bigmodel.ConnectionFailed):
            client.list_voices()


def test_malformed_body_is_a_bad_response(client, sandbox):
    sandbox.set_faults([{"route": "voice.clone", "action": "malformed"}])
    with pytest.raises(bigmodel.BadResponse) as caught:
        clone(client, name="vc_malformed")
    assert caught.value.retryable


def test_unknown_codes_fall_back_on_http_status():
    assert bigmodel.error_class_for(502, None) is bigmodel.ServerError
    assert bigmodel.error_class_for(429, "9999") is bigmodel.RateLimited
    assert bigmodel.error_class_for(404, None) is bigmodel.InvalidRequest
