"""The sandbox where the documentation and the old sandbox disagreed: file content, error codes, faults.

Each test holds the sandbox to a line of the BigModel reference (see sandbox/errors.py and the comments
in sandbox/app.py), so that app code proven against the sandbox also works against the real service.
"""

import io
import socket
import wave

import pytest
import requests

from sandbox import errors, voice
from sandbox.testing import running_sandbox
from tests.samples import wav_bytes
from tests.sandbox_api import api_session


@pytest.fixture
def api(sandbox):
    return api_session(sandbox)


def error_of(response):
    return response.status_code, response.json()["error"]["code"]


def clone(api, name="vc_doc", text="Hello there, friend."):
    sample = api.post(
        f"{api.base}/files", files={"file": ("s.wav", wav_bytes(4))}, data={"purpose": "voice-clone-input"}
    ).json()
    body = {"model": "glm-tts-clone", "voice_name": name, "input": text, "file_id": sample["id"]}
    return api.post(f"{api.base}/voice/clone", json=body)


def listed(api, **params):
    return api.get(f"{api.base}/voice/list", params=params).json()["voice_list"]


def speak(api, **overrides):
    body = {"model": "glm-tts", "input": "Hi there.", "voice": "tongtong", "response_format": "wav", **overrides}
    return api.post(f"{api.base}/audio/speech", json=body)


def test_file_content_refuses_the_clone_preview_as_a_non_batch_file(api):
    made = clone(api).json()
    refused = api.get(f"{api.base}/files/{made['file_id']}/content")
    assert error_of(refused) == (400, "1214") and "batch" in refused.json()["error"]["message"]
    # The sample (voice-clone-input) is refused too; a batch file is served.
    batch = api.post(
        f"{api.base}/files", files={"file": ("b.jsonl", b'{"custom_id": "1"}\n')}, data={"purpose": "batch"}
    ).json()
    assert api.get(f"{api.base}/files/{batch['id']}/content").content == b'{"custom_id": "1"}\n'


def test_file_content_can_be_made_lenient_for_comparison(tmp_path):
    with running_sandbox(tmp_path, file_content="all") as lenient:
        session = api_session(lenient)
        made = clone(session).json()
        assert session.get(f"{lenient.base_url}/files/{made['file_id']}/content").content[:4] == b"RIFF"


def test_download_url_serves_the_preview_wav_without_the_key(api):
    clone(api)
    (entry,) = listed(api, voiceType="PRIVATE")
    preview = requests.get(entry["download_url"], timeout=10)
    assert preview.status_code == 200 and preview.headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(preview.content)) as audio:
        assert audio.getframerate() == 24000


def test_official_voices_are_listed_with_their_names_and_samples(api):
    official = listed(api, voiceType="OFFICIAL")
    assert [v["voice"] for v in official] == ["tongtong", "chuichui", "xiaochen", "jam", "kazi", "douji", "luodo"]
    assert {v["voice_type"] for v in official} == {"OFFICIAL"}
    assert official[0]["voice_name"] == "彤彤"
    assert requests.get(official[0]["download_url"], timeout=10).content[:4] == b"RIFF"
    assert listed(api, voiceType="PRIVATE") == []


def test_delete_a_file(api):
    made = api.post(
        f"{api.base}/files", files={"file": ("s.wav", wav_bytes(4))}, data={"purpose": "voice-clone-input"}
    ).json()
    assert api.delete(f"{api.base}/files/{made['id']}").json() == {"id": made["id"], "object": "file", "deleted": True}
    assert error_of(api.delete(f"{api.base}/files/{made['id']}")) == (400, "1214")


def test_unknown_api_and_wrong_method_are_1222_under_http_400(api):
    assert error_of(api.get(f"{api.base}/voice/nothing")) == (400, "1222")
    unknown = api.get(f"{api.base}/voice/clone")
    assert error_of(unknown) == (400, "1222") and "/voice/clone" in unknown.json()["error"]["message"]


def test_a_file_over_100_mb_is_refused_with_435_before_it_is_read(sandbox):
    host, port = sandbox.root_url.split("//")[1].split(":")
    head = (
        f"POST /api/paas/v4/files HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer sandbox\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {100 * 1024 * 1024 + 1}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode() + b"--x\r\n")
        answer = b""
        while b"}}" not in answer and (data := connection.recv(65536)):  # until the error body is in
            answer += data
        answer = answer.decode()
    assert answer.startswith("HTTP/1.1 435") and '"code": "435"' in answer


@pytest.mark.parametrize("code", sorted(errors.ERRORS))
def test_every_documented_code_can_be_injected_with_its_status_and_message(api, sandbox, code):
    sandbox.set_faults([{"route": "voice.list", "code": code}])
    answer = api.get(f"{api.base}/voice/list")
    status, message = errors.ERRORS[code]
    assert error_of(answer) == (status, code)
    text = answer.json()["error"]["message"]
    assert "${" not in text and text.startswith(message.split("${")[0])


def test_the_table_has_the_statuses_the_docs_give():
    assert errors.status_of("1220") == 403 and "无权访问" in errors.message_of("1220", API_name="/voice/clone")
    assert errors.status_of("1222") == 400
    assert {errors.status_of(str(code)) for code in range(1313, 1322)} == {429}
    assert errors.status_of("434") == 434 and "API权限" in errors.message_of("434")
    assert errors.status_of("435") == 435 and "100MB" in errors.message_of("435")


def test_a_status_and_message_can_still_be_forced(api, sandbox):
    sandbox.set_faults([{"route": "voice.list", "status": 503, "code": "1305", "message": "busy", "retry_after": 2}])
    answer = api.get(f"{api.base}/voice/list")
    assert error_of(answer) == (503, "1305") and answer.json()["error"]["message"] == "busy"


def test_missing_field_fault_answers_valid_json_without_the_field(api, sandbox):
    sandbox.set_faults([{"route": "voice.clone", "action": "missing_field"}])
    answer = clone(api)
    assert answer.status_code == 200 and set(answer.json()) == {"file_id", "file_purpose", "request_id"}
    assert len(sandbox.voices()) == 1  # the work was done; only the answer lacks the voice id
    sandbox.set_faults([{"route": "voice.list", "action": "missing_field"}])
    assert [set(v) for v in listed(api, voiceType="PRIVATE")] == [{"voice", "voice_name", "voice_type", "create_time"}]
    sandbox.set_faults([{"route": "files.upload", "action": "missing_field", "field": "purpose"}])
    made = api.post(f"{api.base}/files", files={"file": ("s.wav", wav_bytes(4))}, data={"purpose": "voice-clone-input"})
    assert "purpose" not in made.json() and made.json()["id"]


def test_error_body_fault_is_a_2xx_json_error_where_audio_was_expected(api, sandbox):
    sandbox.set_faults([{"route": "audio.speech", "action": "error_body", "code": "1301"}])
    answer = speak(api)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    assert answer.json()["error"]["code"] == "1301" and answer.json()["error"]["message"] == errors.message_of("1301")
    assert speak(api).content[:4] == b"RIFF"  # once only


@pytest.mark.parametrize(("status", "name"), [(401, "AccessDenied"), (404, "NoSuchKey")])
def test_download_url_can_answer_401_or_404(api, sandbox, status, name):
    clone(api)
    (entry,) = listed(api, voiceType="PRIVATE")
    sandbox.set_faults([{"route": "download", "status": status}])
    refused = requests.get(entry["download_url"], timeout=10)
    assert refused.status_code == status and f"<Code>{name}</Code>" in refused.text
    assert requests.get(entry["download_url"], timeout=10).content[:4] == b"RIFF"


def test_speech_carries_the_watermark_tone_unless_turned_off(api):
    marked = voice.decode(speak(api).content, rate=24000)
    plain = voice.decode(speak(api, watermark_enabled=False).content, rate=24000)
    assert voice.watermark_present(marked, 24000) and not voice.watermark_present(plain, 24000)
    # The marking comes before the speech: the plain take is the marked one without its first 700 ms.
    assert abs((len(marked) - len(plain)) / 24000 - voice.WATERMARK_SECONDS) < 0.05  # eSpeak varies by ms
    assert error_of(speak(api, watermark_enabled="no")) == (400, "1214")


def test_sdk_style_nulls_mean_the_defaults(api):
    answer = speak(api, response_format=None, encode_format=None, request_id=None, speed=None, volume=None)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "audio/pcm"
