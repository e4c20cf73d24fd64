"""Streamed speech: the client's streaming call, and `stream=true` in the JSON API, against the sandbox
over real HTTP (paced like the provider where timing matters), with a real worker for broken streams."""

import contextlib
import io
import json
import re
import threading
import time
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.db.models import Q
from django.urls import reverse
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from accounts.models import ProviderCall, Usage
from clones import bigmodel, pipeline, streaming
from clones.models import Clone, Utterance
from clones.text import split_text
from sandbox.testing import running_sandbox
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "The first words come out while the rest is still being made, one chunk at a time."


@pytest.fixture
def voice_clone(sandbox, make_clone):
    """A ready clone whose voice exists on the sandbox."""
    clone = make_clone(status=Clone.Status.QUEUED)
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
        pipeline.process(clone, client)
    return clone


@pytest.fixture
def paced_sandbox(tmp_path):
    """A sandbox that streams at the pace of speech, as the provider does, so a stream takes a while."""
    with running_sandbox(tmp_path, stream_pace=1.0) as server:
        yield server


@contextlib.contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def scripted_stream(*events):
    """A loopback server that answers every call with these server-sent events, as a misbehaving
    provider might (the sandbox always streams well)."""

    @Request.application
    def app(request):
        body = "".join(f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n" for event in events)
        return Response(body, content_type="text/event-stream")

    return serving(app)


def chunk_event(pcm=b"\x01\x00" * 100, finish_reason=None, rate=24000):
    import base64

    delta = {"role": "assistant", "content": base64.b64encode(pcm).decode(), "return_sample_rate": rate}
    return {
        "id": "x",
        "created": 1,
        "request_id": "r",
        "choices": [{"index": 0, "finish_reason": finish_reason, "delta": delta}],
    }


def settled_calls(sandbox, count):
    """The sandbox's speech calls once `count` of them have ended: its thread notes a stream's end a
    moment after it sent the last event, which the client may already have read and acted on."""

    def settled():
        calls = sandbox.calls("audio.speech")
        return calls if sum("finished_at" in call for call in calls) >= count else None

    return wait_until(settled, 10)


def wav_frames(data):
    with wave.open(io.BytesIO(data)) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (24000, 1, 2)
        return audio.readframes(audio.getnframes())


# -- the client ------------------------------------------------------------------------------------


def test_the_client_streams_pcm_chunks_that_add_up_to_the_whole_speech(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
        chunks = list(client.speech_stream(input=TEXT, voice="tongtong", model="glm-tts"))
        whole = client.speech(input=TEXT, voice="tongtong", model="glm-tts", response_format="pcm")
    assert len(chunks) > 5 and {chunk.sample_rate for chunk in chunks} == {24000}
    pcm = b"".join(chunk.pcm for chunk in chunks)
    assert abs(len(pcm) - len(whole)) < 0.1 * 24000 * 2  # eSpeak varies by a few milliseconds a call
    first, _ = settled_calls(sandbox, 1)
    assert first["stream"]["complete"] is True


def test_a_consumer_that_stops_closes_the_provider_call_and_frees_its_slot(paced_sandbox):
    held = []

    @contextlib.contextmanager
    def limiter():
        held.append(True)
        try:
            yield
        finally:
            held.pop()

    with bigmodel.BigModelClient(paced_sandbox.base_url, "sandbox", limiter=limiter) as client:
        chunks = client.speech_stream(input=TEXT, voice="tongtong", model="glm-tts")
        assert next(chunks).pcm and held == [True]
        chunks.close()
        assert held == []
    # The sandbox saw the connection close and stopped making the rest.
    call = wait_until(
        lambda: next(iter(c for c in paced_sandbox.calls("audio.speech") if "finished_at" in c), None), 10
    )
    assert call["stream"]["complete"] is False


class KeepAliveStream(BaseHTTPRequestHandler):
    """A provider that keeps connections alive (the sandbox cannot: werkzeug's server closes each one)
    and, as a real server may, ends a stream's body a moment after its [DONE]."""

    protocol_version = "HTTP/1.1"
    ports = []

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.ports.append(self.client_address[1])
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in (chunk_event(), chunk_event(b"", "stop"), "[DONE]"):
            data = f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode()
            self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        time.sleep(0.05)
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


def test_streams_of_different_clients_reuse_one_provider_connection():
    # A client lives for one streamed part; a connection per part would put a TCP and a TLS handshake
    # with the real service before every stream's first audio.
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAliveStream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for _ in range(3):
            url = f"http://127.0.0.1:{server.server_port}"
            with bigmodel.BigModelClient(url, "key") as client:
                assert list(client.speech_stream(input=TEXT, voice="tongtong", model="glm-tts"))
    finally:
        server.shutdown()
        server.server_close()
    assert len(KeepAliveStream.ports) == 3 and len(set(KeepAliveStream.ports)) == 1


def test_errors_before_the_stream_are_typed_like_any_call(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
        with pytest.raises(bigmodel.InvalidRequest) as refused:
            next(client.speech_stream(input=TEXT, voice="nobody", model="glm-tts"))
    assert refused.value.code == "1214"


@pytest.mark.parametrize(
    ("events", "error"),
    [
        ([chunk_event(), {"error": {"code": "1302", "message": "busy"}}], bigmodel.RateLimited),
        ([chunk_event(), {"error": {"code": "1301", "message": "unsafe"}}], bigmodel.ContentRejected),
        ([chunk_event()], bigmodel.ConnectionFailed),  # ended without "stop": the speech is not whole
        ([chunk_event(), "{not json"], bigmodel.BadResponse),
        ([chunk_event(), {"choices": []}], bigmodel.BadResponse),
        ([chunk_event(), chunk_event(finish_reason="length")], bigmodel.BadResponse),
        ([chunk_event(rate=0)], bigmodel.BadResponse),
        ([chunk_event(pcm=b"\x01\x00\x02")], bigmodel.BadResponse),  # half a sample
    ],
    ids=["rate-limited", "rejected", "cut-short", "not-json", "no-choice", "unknown-finish", "no-rate", "odd-bytes"],
)
def test_a_stream_that_goes_wrong_midway_raises_a_bigmodel_error(events, error):
    with scripted_stream(*events) as url, bigmodel.BigModelClient(url, "key") as client:
        chunks = client.speech_stream(input=TEXT, voice="tongtong", model="glm-tts")
        with pytest.raises(error):
            list(chunks)


def test_hex_and_the_done_marker_are_read(sandbox):
    with scripted_stream(chunk_event(), chunk_event(b"", "stop"), "[DONE]") as url:
        with bigmodel.BigModelClient(url, "key") as client:
            (chunk,) = client.speech_stream(input=TEXT, voice="tongtong", model="glm-tts")
    assert chunk.pcm == b"\x01\x00" * 100
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
        chunks = list(client.speech_stream(input=TEXT, voice="tongtong", model="glm-tts", encode_format="hex"))
    assert sum(len(c.pcm) for c in chunks) > 24000


# -- the JSON API ----------------------------------------------------------------------------------


@pytest.fixture
def api(api_token):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_token}"
    return session


def api_speak(client, api_token, clone, **body):
    return client.post(
        reverse("api-1:speak", args=[clone.uuid]),
        {"text": TEXT, **body},
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_token}"},
    )


def test_stream_true_answers_wav_as_it_comes_and_stores_the_same_take(client, api_token, voice_clone, sandbox):
    response = api_speak(client, api_token, voice_clone, stream=True)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "audio/wav" and response["X-Audio-Sample-Rate"] == "24000"
    data = b"".join(response.streaming_content)
    # The header says "length unknown"; the PCM follows it.
    assert data[:4] == b"RIFF" and data[4:8] == b"\xff\xff\xff\xff" and data[40:44] == b"\xff\xff\xff\xff"
    utterance = Utterance.objects.get(uuid=response["X-Utterance"])
    assert response["Location"].endswith(f"/api/v1/utterances/{utterance.uuid}")
    assert utterance.status == "ready" and utterance.parts == 1 and utterance.duration > 1
    with utterance.audio.open("rb") as stored:
        assert wav_frames(stored.read()) == data[44:]
    # Spoken once, streamed, and charged once.
    (call,) = settled_calls(sandbox, 1)
    assert call["stream"]["complete"] is True
    assert list(Usage.objects.values_list("kind", "amount")) == [("speech_chars", len(TEXT))]


@pytest.fixture
def paced_voice_clone(make_clone, paced_sandbox, settings):
    """A ready clone whose voice exists on the paced sandbox, which the app then speaks with."""
    settings.BIGMODEL_BASE_URL = paced_sandbox.base_url
    clone = make_clone(status=Clone.Status.QUEUED)
    with bigmodel.BigModelClient.from_settings() as provider:  # setting up, not metered
        pipeline.process(clone, provider)
    return clone


def test_a_long_text_streams_its_parts_in_order_while_the_next_are_made(
    client, api_token, paced_voice_clone, paced_sandbox, monkeypatch
):
    # Paced as the provider is, so that the first part is still being made when the next ones start.
    voice_clone, sandbox = paced_voice_clone, paced_sandbox
    monkeypatch.setattr(bigmodel, "SPEECH_MAX_CHARS", 40)
    text = "One small cat sat on the mat today. Two brown dogs ran in the park. Three birds sang in a tree."
    response = api_speak(client, api_token, voice_clone, text=text, stream=True)
    assert response["X-Speech-Parts"] == "3"
    data = b"".join(response.streaming_content)
    calls = settled_calls(sandbox, 3)
    assert len(calls) == 3 and all(c["stream"]["complete"] for c in calls)
    # The parts were made side by side (the third started before the first ended) ...
    assert max(c["at"] for c in calls) < min(c["finished_at"] for c in calls)
    # ... and are heard in order, once each.
    wav = io.BytesIO()
    with wave.open(wav, "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(24000), out.writeframes(data[44:])
    heard = requests.post(
        f"{sandbox.base_url}/audio/transcriptions",
        files={"file": ("s.wav", wav.getvalue())},
        data={"model": "glm-asr-2512"},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )
    assert heard.json()["text"] == text
    utterance = Utterance.objects.get()
    assert utterance.parts == 3
    # Each part's call was metered to the owner like a queued part's (the ledger of what the work cost).
    metered = ProviderCall.objects.values_list("user_id", "route", "units", "subject")
    subject = f"utterance:{utterance.pk}"
    expected = [(utterance.owner_id, "audio.speech", len(part), subject) for part in split_text(text, 40)]
    assert sorted(metered) == sorted(expected)


def test_the_later_parts_start_only_once_the_first_audio_is_handed_on(
    client, api_token, paced_voice_clone, paced_sandbox, monkeypatch
):
    # Started sooner, they would compete with the first part for the CPU and the database while the
    # listener still waits for the first sound.
    voice_clone = paced_voice_clone
    monkeypatch.setattr(bigmodel, "SPEECH_MAX_CHARS", 40)
    audio_handed_on_at_launch = []
    launch = streaming.SpeechStream._launch_next

    def noting_launch(stream):
        audio_handed_on_at_launch.append(len(stream.pcm))
        launch(stream)

    monkeypatch.setattr(streaming.SpeechStream, "_launch_next", noting_launch)
    text = "One small cat sat on the mat today. Two brown dogs ran in the park. Three birds sang in a tree."
    response = api_speak(client, api_token, voice_clone, text=text, stream=True)
    assert response.status_code == 200 and response["X-Speech-Parts"] == "3"
    assert audio_handed_on_at_launch == [0]  # the first audio is in hand, and only the first part began
    chunks = iter(response.streaming_content)
    next(chunks)
    assert audio_handed_on_at_launch == [0]
    # The server asks for more once it has written the first audio: the next two parts begin then.
    next(chunks)
    assert audio_handed_on_at_launch == [0, 1, 1]
    assert b"".join(chunks) and Utterance.objects.get().parts == 3
    assert len(settled_calls(paced_sandbox, 3)) == 3


@pytest.mark.parametrize(
    ("body", "field"), [({"text": " "}, "text"), ({"speed": 5}, "speed"), ({"stream": "soon"}, "stream")]
)
def test_bad_input_is_the_usual_json_error_and_leaves_nothing(client, api_token, voice_clone, sandbox, body, field):
    response = api_speak(client, api_token, voice_clone, **{"stream": True, **body})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "validation_error" and field in response.json()["error"]["fields"]
    assert not Utterance.objects.exists() and not Usage.objects.exists() and not sandbox.calls("audio.speech")


def test_quota_is_refused_before_the_first_byte(client, api_token, voice_clone, sandbox, settings):
    settings.QUOTA_SPEECH_CHARS_PER_DAY = 10
    response = api_speak(client, api_token, voice_clone, stream=True)
    assert response.status_code == 429 and response.json()["error"]["code"] == "quota_exceeded"
    assert not Utterance.objects.exists() and not sandbox.calls("audio.speech")


def test_a_provider_refusal_before_the_first_audio_is_json_and_fails_the_utterance(
    client, api_token, voice_clone, sandbox
):
    sandbox.set_faults([{"route": "audio.speech", "code": "1301"}])
    response = api_speak(client, api_token, voice_clone, stream=True)
    assert response.status_code == 502 and response.json()["error"]["code"] == "provider_refused"
    utterance = Utterance.objects.get()
    assert utterance.status == "failed" and utterance.error_code == "1301"
    assert response["Location"].endswith(str(utterance.uuid))


def test_streams_past_the_process_cap_are_refused_before_anything_is_charged(
    client, api_token, voice_clone, sandbox, monkeypatch
):
    from clones import streaming

    monkeypatch.setattr(streaming, "_open_streams", threading.BoundedSemaphore(1))
    streaming.reserve_stream()  # someone else's stream holds the only place
    try:
        response = api_speak(client, api_token, voice_clone, stream=True)
    finally:
        streaming.release_stream()
    assert response.status_code == 503 and response.json()["error"]["code"] == "streams_busy"
    assert not Utterance.objects.exists() and not Usage.objects.exists()


def cutting_proxy(target, events_before_cut):
    """Passes calls on to the sandbox, but cuts a streamed answer short after some events, as a
    connection that breaks mid-stream would."""

    @Request.application
    def app(request):
        upstream = requests.post(
            target + request.path.split("/api/paas/v4", 1)[1],
            data=request.get_data(),
            headers={"Authorization": request.headers["Authorization"], "Content-Type": "application/json"},
            stream=True,
        )

        def cut():
            with upstream:
                for number, line in enumerate(upstream.iter_lines(), 1):
                    yield line + b"\n\n"
                    if number >= events_before_cut:
                        return

        return Response(cut(), status=upstream.status_code, content_type=upstream.headers["Content-Type"])

    return serving(app)


@pytest.mark.worker
def test_a_stream_that_breaks_is_finished_by_the_queue_and_charged_once(
    client, api_token, voice_clone, sandbox, settings, celery_worker, caplog
):
    caplog.set_level("INFO", logger="clones")
    with cutting_proxy(sandbox.base_url, events_before_cut=6) as proxy:
        settings.BIGMODEL_BASE_URL = proxy + "/api/paas/v4"
        response = api_speak(client, api_token, voice_clone, stream=True)
        assert response.status_code == 200
        data = b"".join(response.streaming_content)
    utterance = Utterance.objects.get()
    assert 44 < len(data) and utterance.status in ("queued", "speaking", "ready")
    utterance = wait_until(lambda: Utterance.objects.filter(pk=utterance.pk, status="ready").first(), 60)
    with utterance.audio.open("rb") as stored:
        assert len(wav_frames(stored.read())) > len(data) - 44  # the whole take, not the broken stream
    assert Usage.objects.filter(kind=Usage.Kind.SPEECH_CHARS).count() == 1  # the speech; its check is charged apart
    streamed, queued = sandbox.calls("audio.speech")  # the broken stream, then the worker's whole call
    # Logged with the provider's request id and the utterance, as the break was noticed.
    (line,) = [r.getMessage() for r in caplog.records if "route=audio.speech.stream" in r.getMessage()]
    assert "code=connection" in line or "code=-" not in line
    assert re.search(r"request_id=[0-9a-f]{32}", line) and f"utterance={utterance.pk}" in line
    assert any("stream broke" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)
    # The cut is the proxy's: the sandbox may well have sent its whole stream into it before the cut.
    assert "stream" in streamed and "stream" not in queued


def test_a_listener_who_hangs_up_stops_the_provider_call(live_server, api_token, make_clone, paced_sandbox, settings):
    settings.BIGMODEL_BASE_URL = paced_sandbox.base_url
    voice_clone = make_clone(status=Clone.Status.QUEUED)
    with bigmodel.BigModelClient.from_settings() as client:  # setting up, not metered
        pipeline.process(voice_clone, client)
    url = live_server.url + reverse("api-1:speak", args=[voice_clone.uuid])
    with requests.post(
        url, json={"text": TEXT, "stream": True}, headers={"Authorization": f"Bearer {api_token}"}, stream=True
    ) as response:
        assert response.status_code == 200
        assert len(next(response.iter_content(4096))) > 0
        (call,) = paced_sandbox.calls("audio.speech")
        assert "finished_at" not in call
    # The server noticed at its next write, closed the provider's connection, and the sandbox stopped.
    call = wait_until(
        lambda: next(iter(c for c in paced_sandbox.calls("audio.speech") if "finished_at" in c), None), 20
    )
    assert call["stream"]["complete"] is False
    # The take is not lost: it was handed to the queue, already paid for.
    # (A worker of an earlier test may take it at once: then it is its second attempt.)
    wait_until(lambda: Utterance.objects.filter(Q(status="queued") | Q(attempts__gt=1)).exists(), 10)
    assert Usage.objects.count() == 1


def test_the_sweep_leaves_a_live_stream_alone_and_takes_a_dead_one(make_clone, user, settings):
    from datetime import timedelta

    from django.utils import timezone

    from clones import tasks

    settings.STUCK_AFTER_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=30)
    clone = make_clone()
    alive, dead = (
        Utterance.objects.create(owner=user, clone=clone, text=TEXT, status="speaking", attempts=1) for _ in "ab"
    )
    Utterance.objects.filter(pk__in=[alive.pk, dead.pk]).update(created_at=long_ago, queued_at=long_ago)
    alive.beat()
    Utterance.objects.filter(pk=dead.pk).update(lease_expires_at=long_ago)
    assert tasks.sweep_stuck_work()["utterances"] == 1
    assert Utterance.objects.get(pk=alive.pk).status == "speaking"
    dead.refresh_from_db()  # queued again (a running worker may have taken it already: its 2nd attempt)
    assert dead.status == "queued" or dead.attempts == 2


def test_a_long_stream_renews_its_provider_slot_and_its_heartbeat(
    client, api_token, make_clone, paced_sandbox, settings, monkeypatch
):
    from clones import streaming
    from clones.models import ProviderSlot

    settings.BIGMODEL_BASE_URL = paced_sandbox.base_url
    settings.PROVIDER_MAX_CONCURRENCY = 1
    voice_clone = make_clone(status=Clone.Status.QUEUED)
    with bigmodel.BigModelClient.from_settings() as provider:  # setting up, not metered
        pipeline.process(voice_clone, provider)
    monkeypatch.setattr(streaming, "RENEW_SECONDS", 0.5)
    response = api_speak(client, api_token, voice_clone, stream=True)
    chunks = iter(response.streaming_content)
    next(chunks)
    # The only slot of a cap of 1 (the shared worker, with the default cap, may have left rows of its own).
    slot = ProviderSlot.objects.get(number=1)
    assert slot.expires_at.year > 2000  # held by the stream
    first_lease = slot.expires_at
    first_stream_lease = Utterance.objects.get().lease_expires_at
    for _ in range(12):  # 0.2 s of speech each, paced: well over a second
        next(chunks)
    slot.refresh_from_db()
    assert slot.expires_at > first_lease
    assert Utterance.objects.get().lease_expires_at > first_stream_lease  # the sweep sees it alive
    b"".join(chunks)
    slot.refresh_from_db()
    assert slot.expires_at.year == 2000  # freed at the end


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        ({"action": "stream_error", "code": "1302"}, bigmodel.RateLimited, "1302"),
        ({"action": "stream_error", "code": "1301"}, bigmodel.ContentRejected, "1301"),
        ({"action": "stream_drop"}, bigmodel.ConnectionFailed, None),
    ],
    ids=["rate-limited", "rejected", "dropped"],
)
def test_the_sandboxs_broken_streams_raise_after_the_first_chunks(sandbox, fault, error, code):
    sandbox.set_faults([{"route": "audio.speech", "after_chunks": 3, **fault}])
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
        chunks = client.speech_stream(input=TEXT, voice="tongtong", model="glm-tts")
        received = []
        with pytest.raises(error) as raised:
            for chunk in chunks:
                received.append(chunk)
    assert len(received) == 3 and raised.value.code == code


def test_a_refusal_mid_stream_ends_the_stream_cleanly_and_fails_the_utterance(
    client, api_token, voice_clone, sandbox, caplog
):
    caplog.set_level("INFO", logger="clones")
    sandbox.set_faults([{"route": "audio.speech", "action": "stream_error", "code": "1301", "after_chunks": 5}])
    response = api_speak(client, api_token, voice_clone, stream=True)
    assert response.status_code == 200
    data = b"".join(response.streaming_content)  # ends, without an exception in the server
    assert len(data) > 44
    utterance = Utterance.objects.get()
    assert utterance.status == "failed" and utterance.error_code == "1301"
    assert Usage.objects.count() == 1 and len(sandbox.calls("audio.speech")) == 1  # not queued again
    (line,) = [r.getMessage() for r in caplog.records if "route=audio.speech.stream" in r.getMessage()]
    assert "code=1301" in line and "request_id=" in line


def test_the_clone_pages_stream_speaks_for_those_who_may_and_404s_the_rest(
    client, user, other_user, voice_clone, sandbox, make_clone
):
    url = reverse("clones:speak_stream_with_clone", args=[voice_clone.uuid])
    form = {"text": TEXT, "speed": "1", "volume": "1"}
    assert client.post(url, form).status_code == 302  # to the log-in page
    client.force_login(user)
    response = client.post(url, form)
    assert response.status_code == 200 and response["X-Status-Url"].endswith("/status/")
    assert len(b"".join(response.streaming_content)) > 24000
    assert Utterance.objects.get().status == "ready"
    theirs = make_clone(other_user, name="Theirs")
    assert client.post(reverse("clones:speak_stream_with_clone", args=[theirs.uuid]), form).status_code == 404
    refused = client.post(url, {**form, "text": ""})
    assert refused.status_code == 400 and "text" in refused.json()["fields"]
    assert Utterance.objects.count() == 1 and len(sandbox.calls("audio.speech")) == 1
