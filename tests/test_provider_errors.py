"""Provider errors mapped by meaning, and replies read strictly, over real HTTP on loopback.

The error table is walked against the sandbox's fault injection; replies the sandbox never sends (a 200
with a field missing, a speech reply that is JSON) come from a small scripted server of our own.
"""

import io
import json
import threading

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from clones import bigmodel
from clones.models import Utterance
from sandbox import errors as sandbox_errors
from tests.conftest import wait_until
from tests.samples import wav_bytes


@pytest.fixture
def client(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key, read_timeout=5) as client:
        yield client


def test_the_table_has_a_row_for_every_code_the_sandbox_documents():
    assert set(bigmodel.ERROR_CODES) == set(sandbox_errors.ERRORS)


@pytest.mark.parametrize("code", sorted(bigmodel.ERROR_CODES))
def test_every_documented_code_raises_its_class_with_a_translated_message(client, sandbox, code):
    row = bigmodel.ERROR_CODES[code]
    # The code alone: the sandbox answers it with the HTTP status and message the docs give it.
    sandbox.set_faults([{"route": "voice.list", "action": "error", "code": code}])
    with pytest.raises(bigmodel.BigModelError) as caught:
        client.list_voices()
    assert type(caught.value) is row.error_class
    assert caught.value.code == code and caught.value.status == row.status
    assert caught.value.retryable is issubclass(row.error_class, bigmodel.TransientError)
    with translation.override("en"):
        english = str(bigmodel.user_message(code))
    with translation.override("zh-hans"):
        chinese = str(bigmodel.user_message(code))
    assert english and chinese and chinese != english


def test_no_access_to_the_api_is_an_account_problem_not_a_rejected_sample(client, sandbox):
    sandbox.set_faults([{"route": "voice.list", "action": "error", "status": 403, "code": "1220"}])
    with pytest.raises(bigmodel.AccountProblem) as caught:
        client.list_voices()
    assert not isinstance(caught.value, bigmodel.InvalidRequest) and not caught.value.retryable


@pytest.mark.parametrize("code", [str(n) for n in range(1313, 1322)])
def test_plan_and_fair_use_limits_are_not_retried_like_rate_limits(client, sandbox, code):
    sandbox.set_faults([{"route": "voice.list", "action": "error", "status": 429, "code": code}])
    with pytest.raises(bigmodel.PlanLimitReached) as caught:
        client.list_voices()
    assert not caught.value.retryable
    assert "staff" in str(bigmodel.user_message(code))


@pytest.mark.parametrize("status, error_class", [(403, bigmodel.NoApiAccess), (434, bigmodel.NoApiAccess)])
def test_statuses_without_a_code_map_by_the_status_table(client, sandbox, status, error_class):
    sandbox.set_faults([{"route": "voice.list", "action": "error", "status": status}])
    with pytest.raises(error_class):
        client.list_voices()


# -- a scripted provider: answers each route with what the test says, and keeps the requests -----------


class ScriptedProvider:
    def __init__(self):
        self.replies = {}
        self.requests = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append((request.path, request.get_data()))
        status, content_type, body = self.replies[request.path.rsplit("/api/paas/v4", 1)[-1]]
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        return Response(body, status=status, content_type=content_type)(environ, start_response)


@pytest.fixture
def scripted():
    provider = ScriptedProvider()
    server = make_server("127.0.0.1", 0, provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.base_url = f"http://127.0.0.1:{server.server_port}/api/paas/v4"
    yield provider
    server.shutdown()
    thread.join(timeout=5)


def scripted_client(provider, **kwargs):
    return bigmodel.BigModelClient(provider.base_url, "key", read_timeout=5, **kwargs)


def clone_call(client):
    return client.clone_voice(voice_name="vc_x", input="Hi.", file_id="f1", model="glm-tts-clone")


def test_a_clone_reply_without_a_voice_is_a_retryable_bad_response(scripted):
    scripted.replies["/voice/clone"] = (200, "application/json", {})
    with scripted_client(scripted) as client, pytest.raises(bigmodel.BadResponse) as caught:
        clone_call(client)
    assert caught.value.retryable and "'voice'" in str(caught.value)


def test_a_clone_reply_without_a_preview_file_is_still_a_voice(scripted):
    scripted.replies["/voice/clone"] = (200, "application/json", {"voice": "v-1"})
    with scripted_client(scripted) as client:
        assert clone_call(client) == bigmodel.ClonedVoice(voice="v-1")


@pytest.mark.parametrize(
    "path, reply, call",
    [
        ("/files", {"id": 42}, lambda c: c.upload_file(io.BytesIO(b"RIFF"), "a.wav")),
        ("/files", {"id": "f", "bytes": "12"}, lambda c: c.upload_file(io.BytesIO(b"RIFF"), "a.wav")),
        ("/voice/list", {}, lambda c: c.list_voices()),
        ("/voice/list", {"voice_list": {"voice": "v"}}, lambda c: c.list_voices()),
        ("/voice/list", {"voice_list": [{"voice_name": "n"}]}, lambda c: c.list_voices()),
        ("/voice/list", {"voice_list": ["v"]}, lambda c: c.list_voices()),
        ("/voice/delete", {"update_time": "2026-01-01 00:00:00"}, lambda c: c.delete_voice("v")),
        ("/audio/transcriptions", {"id": "t"}, lambda c: c.transcribe(io.BytesIO(b"RIFF"), "a.wav")),
        ("/voice/clone", [], clone_call),
    ],
)
def test_missing_or_mistyped_fields_are_bad_responses(scripted, path, reply, call):
    scripted.replies[path] = (200, "application/json", reply)
    with scripted_client(scripted) as client, pytest.raises(bigmodel.BadResponse):
        call(client)


def test_a_delete_reply_in_the_sdks_shape_is_read(scripted):
    scripted.replies["/voice/delete"] = (200, "application/json", {"voice": "v", "delete_time": "2026-01-01"})
    with scripted_client(scripted) as client:
        assert client.delete_voice("v").delete_time == "2026-01-01"


def speak(client):
    return client.speech(input="Hello.", voice="tongtong", model="glm-tts")


def test_speech_that_is_a_json_error_is_read_as_that_error(scripted):
    error = {"error": {"code": "1301", "message": "unsafe"}}
    scripted.replies["/audio/speech"] = (200, "application/json", error)
    with scripted_client(scripted) as client, pytest.raises(bigmodel.ContentRejected) as caught:
        speak(client)
    assert caught.value.code == "1301" and caught.value.status == 200


def test_speech_that_is_a_plan_limit_in_a_2xx_stops_the_work(scripted):
    scripted.replies["/audio/speech"] = (200, "text/plain", b'{"error": {"code": "1313", "message": "fair use"}}')
    with scripted_client(scripted) as client, pytest.raises(bigmodel.PlanLimitReached):
        speak(client)


@pytest.mark.parametrize(
    "content_type, body",
    [("application/json", {"ok": True}), ("text/html", b"<html>gateway</html>"), ("audio/wav", b"")],
)
def test_speech_that_is_not_audio_is_a_bad_response(scripted, content_type, body):
    scripted.replies["/audio/speech"] = (200, content_type, body)
    with scripted_client(scripted) as client, pytest.raises(bigmodel.BadResponse):
        speak(client)


@pytest.mark.parametrize("watermark", [True, False])
def test_speech_sends_the_watermark_setting(scripted, watermark):
    scripted.replies["/audio/speech"] = (200, "audio/wav", wav_bytes(1))
    with scripted_client(scripted, watermark=watermark) as client:
        assert speak(client)[:4] == b"RIFF"
    path, body = scripted.requests[-1]
    assert json.loads(body)["watermark_enabled"] is watermark


@pytest.mark.django_db
def test_the_client_built_from_settings_sends_bigmodel_watermark(scripted, settings):
    settings.BIGMODEL_BASE_URL, settings.BIGMODEL_WATERMARK = scripted.base_url, False
    scripted.replies["/audio/speech"] = (200, "audio/wav", wav_bytes(1))
    with bigmodel.BigModelClient.from_settings() as client:
        speak(client)
    assert json.loads(scripted.requests[-1][1])["watermark_enabled"] is False


# -- the same against the sandbox's documented faults -------------------------------------------------


@pytest.mark.parametrize(
    "route, call",
    [
        (
            "voice.clone",
            lambda c: c.clone_voice(voice_name="vc_m", input="Hi.", file_id=upload(c), model="glm-tts-clone"),
        ),
        ("files.upload", lambda c: upload(c)),
        ("audio.transcriptions", lambda c: c.transcribe(io.BytesIO(wav_bytes(2)), "a.wav")),
    ],
)
def test_the_sandboxs_missing_field_is_a_retryable_bad_response(client, sandbox, route, call):
    sandbox.set_faults([{"route": route, "action": "missing_field"}])
    with pytest.raises(bigmodel.BadResponse) as caught:
        call(client)
    assert caught.value.retryable


@pytest.mark.parametrize(
    "code, error_class",
    [("1301", bigmodel.ContentRejected), ("1313", bigmodel.PlanLimitReached), ("1214", bigmodel.InvalidRequest)],
)
def test_the_sandboxs_error_body_on_speech_is_read_as_its_error(client, sandbox, code, error_class):
    sandbox.set_faults([{"route": "audio.speech", "action": "error_body", "code": code}])
    with pytest.raises(error_class) as caught:
        speak(client)
    assert caught.value.code == code


def test_a_listed_voice_without_its_id_is_a_bad_response(client, sandbox):
    sandbox.set_faults([{"route": "voice.list", "action": "missing_field", "field": "voice"}])
    with pytest.raises(bigmodel.BadResponse):
        client.list_voices(voice_type="OFFICIAL")


def upload(client):
    return client.upload_file(io.BytesIO(wav_bytes(2)), "a.wav").id


def test_a_json_reply_that_is_an_error_body_is_that_error(client, sandbox):
    sandbox.set_faults([{"route": "voice.clone", "action": "error_body", "code": "1220"}])
    with pytest.raises(bigmodel.NoApiAccess) as caught:
        client.clone_voice(voice_name="vc_e", input="Hi.", file_id=upload(client), model="glm-tts-clone")
    assert caught.value.status == 200 and caught.value.code == "1220"


# -- what an owner reads when speech stops on a plan limit --------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_speech_stopped_by_a_plan_limit_says_so_and_is_not_retried(user, sandbox, celery_worker):
    sandbox.set_faults([{"route": "audio.speech", "action": "error", "code": "1316", "times": None}])
    client = Client()
    client.force_login(user)
    client.post(reverse("clones:speak"), {"voice": "tongtong", "text": "你好。", "speed": 1, "volume": 1})
    utterance = wait_until(lambda: Utterance.objects.filter(status="failed").first(), timeout=60)
    assert len(sandbox.calls("audio.speech")) == 1
    state = client.get(reverse("clones:utterance_status", args=[utterance.uuid])).json()
    assert state["failure_reason"].startswith("The site's voice service plan has reached a usage or fair-use limit")
    assert state["failure_reason"] in client.get(reverse("clones:speak")).text.replace("&#x27;", "'")
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(reverse("clones:utterance_status", args=[utterance.uuid]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "套餐" in chinese.json()["failure_reason"]
