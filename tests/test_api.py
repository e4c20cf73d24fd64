"""The JSON API: the whole flow with a real worker and the sandbox, and every way a request can go wrong.

Validation is the web form's own, so the API's messages are compared with what the web page says.
"""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import Usage
from clones.models import Clone, Utterance
from tests.conftest import wait_until
from tests.samples import wav_bytes, wav_duration

CLONES = "/api/v1/clones"


@pytest.fixture
def api(api_token):
    """A client that knows nothing but the token: no session, no CSRF cookie."""
    return Client(headers={"Authorization": f"Bearer {api_token}"})


def clone_fields(sample=None, **fields):
    return {
        "name": "Narrator",
        "preview_text": "Hello, this is my new voice speaking.",
        "transcript": "",
        "language": "en",
        "visibility": "private",
        "tags": "calm, narrator",
        "consent": "true",
        "sample": SimpleUploadedFile("s.wav", sample if sample is not None else wav_bytes(5)),
        **fields,
    }


def speak(api, clone, **body):
    return api.post(f"{CLONES}/{clone.uuid}/speak", {"text": "Hello there.", **body}, content_type="application/json")


def error(response):
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


# -- the round trip ------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_create_poll_preview_speak_and_delete(api, sandbox, celery_worker):
    created = api.post(CLONES, clone_fields())
    assert created.status_code == 201, created.content
    clone = created.json()
    assert clone["status"] == "queued" and clone["finished"] is False and clone["tags"] == ["calm", "narrator"]
    assert created["Location"] == clone["links"]["url"]
    quality = clone["quality"]  # the sample's report, as the clone page shows it
    assert quality["format"] == "wav" and quality["trimmed"] is False
    assert quality["kept_duration"] == clone["sample_duration"] and quality["verdict"] in ("good", "fair", "poor")
    assert quality["advice"] and all(advice["message"] for advice in quality["advice"])

    def finished():
        state = api.get(clone["links"]["url"]).json()
        return state if state["finished"] else None

    clone = wait_until(finished, timeout=60)
    assert clone["status"] == "ready", clone
    assert clone["voice_id"] == sandbox.voices()[0]["voice"] and clone["preview_file_id"]
    assert clone["failure_reason"] is None and clone["links"]["share"] is None

    preview = api.get(clone["links"]["preview"])
    assert preview.status_code == 200 and preview["Content-Type"] == "audio/wav"
    audio = b"".join(preview.streaming_content)
    assert audio[:4] == b"RIFF" and 1.0 < wav_duration(audio) < 8.0
    part = api.get(clone["links"]["preview"], headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and b"".join(part.streaming_content) == b"RIFF"

    spoken = speak(api, Clone.objects.get(), text="Good morning, this is my cloned voice.", speed=1.2)
    assert spoken.status_code == 201, spoken.content
    utterance = spoken.json()
    assert utterance["clone"] == clone["uuid"] and utterance["speed"] == 1.2 and utterance["links"]["audio"] is None

    def spoken_out():
        state = api.get(utterance["links"]["url"]).json()
        return state if state["finished"] else None

    utterance = wait_until(spoken_out, timeout=90)
    assert utterance["status"] == "ready" and utterance["duration"] > 1
    speech = api.get(utterance["links"]["audio"])
    assert speech.status_code == 200 and b"".join(speech.streaming_content)[:4] == b"RIFF"
    assert [u["uuid"] for u in api.get("/api/v1/utterances").json()["results"]] == [utterance["uuid"]]

    deleted = api.delete(clone["links"]["url"])
    assert deleted.status_code == 202
    assert deleted.json()["message"] == "“Narrator” is being deleted, at the provider too."
    assert error(api.get(clone["links"]["url"]))["code"] == "not_found"
    assert api.get(CLONES).json()["count"] == 0
    wait_until(lambda: not Clone.objects.exists() and not sandbox.voices(), timeout=60)
    assert [call["status"] for call in sandbox.calls("voice.delete")] == [200]


# -- one validation path: the API says what the web form says ------------------------------


def web_form_errors(client, fields):
    response = client.post(reverse("clones:create"), fields)
    assert response.status_code == 200
    return {name: list(messages) for name, messages in response.context["form"].errors.items()}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad",
    [
        {"consent": ""},
        {"name": ""},
        {"name": "x" * 101},
        {"preview_text": "   "},
        {"visibility": "secret"},
        {"tags": "a, b, c, d, e, f"},
        {"sample": b"this is not audio"},
        {"sample": b""},
        {"sample": wav_bytes(1)},
        {"sample": wav_bytes(5, level=0.0)},  # silent (a long one is trimmed now, not refused)
    ],
    ids=lambda bad: ",".join(bad),
)
def test_clone_validation_matches_the_web_form(api, client, user, bad):
    sample = bad.pop("sample", None)
    client.force_login(user)
    expected = web_form_errors(client, clone_fields(sample, **bad))
    assert expected  # the web form refused it

    response = api.post(CLONES, clone_fields(sample, **bad))
    assert response.status_code == 400
    body = error(response)
    assert body["code"] == "validation_error" and body["fields"] == expected
    assert body["message"] == " ".join(m for messages in expected.values() for m in messages)
    assert not Clone.objects.exists() and not Usage.objects.exists()


@pytest.mark.django_db
def test_messages_follow_accept_language(api):
    response = api.post(CLONES, clone_fields(consent=""), headers={"Accept-Language": "zh-CN"})
    english = "Please confirm that you have the right to clone this voice."
    with translation.override("zh-hans"):
        chinese = translation.gettext(english)
    assert chinese != english and error(response)["fields"]["consent"] == [chinese]


@pytest.mark.django_db
def test_language_and_visibility_default_like_the_form(api):
    fields = clone_fields()
    del fields["language"], fields["visibility"]
    clone = api.post(CLONES, fields).json()
    assert (clone["language"], clone["visibility"]) == ("en", "private")


@pytest.mark.django_db
def test_oversized_sample_is_413_with_the_web_forms_message(api, client, user, settings):
    settings.SAMPLE_MAX_BYTES = 50_000
    client.force_login(user)
    expected = ["The file is larger than the limit of 48.8\xa0KB."]
    for sample in (wav_bytes(4), wav_bytes(12)):  # caught while streaming; so large it is not even read
        assert web_form_errors(client, clone_fields(sample))["sample"] == expected
        response = api.post(CLONES, clone_fields(sample))
        assert response.status_code == 413
        assert error(response) == {"code": "file_too_large", "message": expected[0], "fields": {"sample": expected}}
    assert not Clone.objects.exists()


@pytest.mark.django_db
def test_speech_validation_matches_the_web_form(api, client, user, make_clone, settings):
    settings.SPEECH_MAX_TEXT_CHARS = 20
    clone = make_clone(voice_id="voice-1")
    client.force_login(user)
    for bad in [{"text": ""}, {"text": "x" * 21}, {"speed": 5}, {"volume": 0}, {"text": " ", "speed": 0.1}]:
        fields = {"text": "Hello there.", "speed": 1, "volume": 1, **bad}
        web = client.post(reverse("clones:speak_with_clone", args=[clone.uuid]), fields)
        assert web.status_code == 400
        expected = {name: list(messages) for name, messages in web.context["speech_form"].errors.items()}
        response = speak(api, clone, **bad)
        assert response.status_code == 400, bad
        assert error(response)["fields"] == expected
    missing = api.post(f"{CLONES}/{clone.uuid}/speak", {}, content_type="application/json")
    assert error(missing)["fields"] == {"text": ["This field is required."]}
    assert not Utterance.objects.exists()


@pytest.mark.django_db
def test_speech_body_must_be_json_of_the_right_types(api, make_clone):
    clone = make_clone(voice_id="voice-1")
    url = f"{CLONES}/{clone.uuid}/speak"
    not_json = api.post(url, "text=hello", content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 400 and error(not_json)["message"] == "The request body is not valid JSON."
    wrong = api.post(url, {"text": ["a"], "speed": "fast"}, content_type="application/json")
    assert wrong.status_code == 400 and set(error(wrong)["fields"]) == {"text", "speed"}
    surrogate = api.post(url, b'{"text": "\\ud800"}', content_type="application/json")
    assert surrogate.status_code == 400
    assert not Utterance.objects.exists()


# -- quotas and rate limits: the web's, as JSON --------------------------------------------


@pytest.mark.django_db
def test_clone_quota_is_429_quota_exceeded(api, settings):
    settings.QUOTA_CLONES_PER_DAY = 1
    assert api.post(CLONES, clone_fields()).status_code == 201
    refused = api.post(CLONES, clone_fields())
    assert refused.status_code == 429
    assert error(refused)["code"] == "quota_exceeded"
    assert error(refused)["message"].startswith(
        "You have used your 1 clones for the last 24 hours. It will be allowed again at "
    )
    assert 86_000 < int(refused["Retry-After"]) <= 86_400
    assert Clone.objects.count() == 1


@pytest.mark.django_db
def test_rate_limit_is_429_rate_limited_with_retry_after(api, settings):
    settings.RATE_LIMIT_PER_MINUTE = 2
    codes = [api.post(CLONES, clone_fields()).status_code for _ in range(2)]
    refused = api.post(CLONES, clone_fields())
    assert codes == [201, 201] and refused.status_code == 429
    assert error(refused)["code"] == "rate_limited"
    assert re.fullmatch(
        r"Too many requests at once: please wait \d+ seconds and try again\.", error(refused)["message"]
    )
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Clone.objects.count() == 2


@pytest.mark.django_db
def test_speech_quota_is_429(api, make_clone, settings):
    settings.QUOTA_SPEECH_CHARS_PER_DAY = 30
    clone = make_clone(voice_id="voice-1")
    assert speak(api, clone, text="x" * 20).status_code == 201
    refused = speak(api, clone, text="y" * 20)
    assert refused.status_code == 429 and error(refused)["code"] == "quota_exceeded"
    assert "This would pass your limit of 30 characters of speech in 24 hours (20 used)." in error(refused)["message"]
    assert "Retry-After" in refused
    assert Utterance.objects.count() == 1


# -- whose is what -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_other_users_clones_and_utterances_are_404(api, make_clone, other_user):
    theirs = make_clone(owner=other_user, voice_id="voice-2", visibility="public")
    utterance = Utterance.objects.create(owner=other_user, clone=theirs, text="Hi.")
    for method, url in [
        ("get", f"{CLONES}/{theirs.uuid}"),
        ("delete", f"{CLONES}/{theirs.uuid}"),
        ("get", f"{CLONES}/{theirs.uuid}/preview"),
        ("get", f"/api/v1/utterances/{utterance.uuid}"),
        ("get", f"/api/v1/utterances/{utterance.uuid}/audio"),
    ]:
        response = getattr(api, method)(url)
        assert response.status_code == 404, url
        assert error(response) == {"code": "not_found", "message": "Not found, or not yours."}
    assert error(speak(api, theirs))["code"] == "not_found"
    assert api.get(CLONES).json()["count"] == 0 and api.get("/api/v1/utterances").json()["count"] == 0
    theirs.refresh_from_db()
    assert theirs.deletion_requested_at is None


@pytest.mark.django_db
def test_a_public_clone_that_allows_it_speaks_for_anyone(api, make_clone, other_user):
    theirs = make_clone(owner=other_user, voice_id="voice-2", visibility="public", allow_public_speech=True)
    assert speak(api, theirs).status_code == 201
    assert api.get(f"{CLONES}/{theirs.uuid}").status_code == 404  # speaking with it does not make it yours


@pytest.mark.django_db
def test_a_clone_still_cloning_cannot_speak_yet(api, make_clone):
    clone = make_clone(status=Clone.Status.CLONING)
    response = speak(api, clone)
    assert response.status_code == 409
    assert error(response) == {
        "code": "clone_not_ready",
        "message": "This clone cannot speak yet: it is “Cloning voice”.",
    }
    preview = api.get(f"{CLONES}/{clone.uuid}/preview")
    assert error(preview) == {"code": "not_found", "message": "This clone has no preview audio yet."}


# -- shapes, pages and links ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_clone_as_the_api_shows_it(api, make_clone):
    clone = make_clone(voice_id="voice-1", preview_file_id="file-1", visibility="unlisted", name="Ada")
    body = api.get(f"{CLONES}/{clone.uuid}").json()
    base = "http://testserver"
    assert body["uuid"] == str(clone.uuid) and body["name"] == "Ada"
    assert (body["status"], body["status_label"], body["finished"]) == ("ready", "Ready", True)
    assert (body["voice_name"], body["voice_id"], body["preview_file_id"]) == (clone.voice_name, "voice-1", "file-1")
    assert body["links"] == {
        "url": f"{base}{CLONES}/{clone.uuid}",
        "preview": f"{base}{CLONES}/{clone.uuid}/preview",
        "speak": f"{base}{CLONES}/{clone.uuid}/speak",
        "refetch_preview": f"{base}{CLONES}/{clone.uuid}/preview/refetch",
        "page": f"{base}{clone.get_absolute_url()}",
        "share": f"{base}{clone.get_share_url()}",
    }
    assert api.get(body["links"]["preview"]).status_code == 200


@pytest.mark.django_db
def test_clones_are_paginated_newest_first(api, make_clone):
    clones = [make_clone(name=f"Voice {n}") for n in range(23)]
    first = api.get(CLONES).json()
    assert (first["count"], first["page"], first["pages"], first["previous"]) == (23, 1, 2, None)
    assert [c["name"] for c in first["results"]] == [c.name for c in reversed(clones)][:20]
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 3 and second["next"] is None and second["previous"].endswith("?page=1")
    assert api.get(CLONES, {"page": 3}).json()["results"] == []
    assert error(api.get(CLONES, {"page": 0}))["fields"].keys() == {"page"}


@pytest.mark.django_db
def test_unknown_urls_methods_and_ids_are_json(api):
    for response, status, code in [
        (api.get("/api/v1/nothing-here"), 404, "not_found"),
        (api.get("/api/v1/"), 404, "not_found"),
        (api.post("/api/v2/clones"), 404, "not_found"),
        (api.get(f"{CLONES}/not-a-uuid"), 404, "not_found"),
        (api.put(CLONES), 405, "method_not_allowed"),
    ]:
        assert response.status_code == status and error(response)["code"] == code
    assert api.patch(CLONES)["Allow"] in ("GET, POST", "POST, GET")


@pytest.mark.django_db
def test_a_multipart_body_that_cannot_be_read_is_400(api):
    response = api.generic("POST", CLONES, b"--x\r\nnonsense", content_type="multipart/form-data; boundary=x\x00")
    assert response.status_code == 400
    assert error(response) == {"code": "validation_error", "message": "The request body could not be read."}


def test_errors_are_not_cached():
    response = Client().get(CLONES)
    assert response["Cache-Control"] == "no-store" and json.loads(response.content)["error"]["code"]
