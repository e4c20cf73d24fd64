"""One-off speech heard back on its own: a real worker speaks through the sandbox over real HTTP, hears the
speech with /audio/transcriptions, and speaks it again while it differs, keeping the best attempt; the
account's setting and each request's `check` decide whether it is checked at all."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts.models import Preferences, ProviderCall, Usage
from checks.models import UtteranceAttempt
from clones import bigmodel, pipeline
from clones.models import Clone, Utterance
from tests.conftest import wait_until
from tests.test_api_schema import CHECKS, schema

pytestmark = pytest.mark.django_db(transaction=True)

ENGLISH = "Every take is heard back and checked before anyone listens."
MISPEAK_ONCE = {"route": "audio.speech", "action": "mispeak", "mispeak": "drop", "times": 1, "seed": 3}


@pytest.fixture
def voice_clone(sandbox, make_clone):
    """A ready clone whose voice exists on the sandbox."""
    clone = make_clone(status=Clone.Status.QUEUED)
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
        pipeline.process(clone, client)
    return clone


def api_speak(client, api_token, clone, **body):
    return client.post(
        reverse("api-1:speak", args=[clone.uuid]),
        {"text": ENGLISH, **body},
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_token}"},
    )


def speak(client, user, **fields):
    """One-off speech from the speak page, with a system voice."""
    client.force_login(user)
    form = {"voice": "tongtong", "speed": 1, "volume": 1, "text": ENGLISH, **fields}
    response = client.post(reverse("clones:speak"), form)
    assert response.status_code == 302, response.content.decode()
    return Utterance.objects.latest("pk")


def settled(utterance):
    """The utterance once spoken and, if it is checked, once its check (and every retry) is over."""

    def done():
        found = Utterance.objects.get(pk=utterance.pk)
        return found.status in ("ready", "failed") and not found.check_busy and found

    try:
        return wait_until(done, 120)
    except AssertionError:
        found = Utterance.objects.filter(pk=utterance.pk).values("status", "check_status", "check_error")
        raise AssertionError(f"utterance not settled: {list(found)}") from None


@pytest.mark.worker
def test_mis_spoken_speech_is_checked_spoken_again_and_ends_checked(client, user, sandbox, celery_worker):
    sandbox.set_faults([MISPEAK_ONCE])
    utterance = settled(speak(client, user, check_requested="on"))

    assert utterance.check_status == "passed" and utterance.transcript == ENGLISH and utterance.error_rate == 0.0
    first, second = UtteranceAttempt.objects.filter(utterance=utterance)
    # Every attempt recorded: what was heard, how far off, what it cost.
    assert (first.number, first.check_status, first.kept) == (1, "differs", False)
    assert first.error_rate == pytest.approx(0.1) and len(first.transcript.split()) == 9
    assert (second.number, second.check_status, second.kept) == (2, "passed", True)
    assert first.check_calls == second.check_calls == 1 and second.provider_calls == 1
    assert utterance.check_calls == 2 and not first.audio and not second.audio
    # The kept attempt's audio is the utterance's; the first attempt's file is gone.
    assert utterance.audio.name == f"utterances/{utterance.uuid}-2.wav"
    assert default_storage.exists(utterance.audio.name)
    assert not default_storage.exists(f"utterances/{utterance.uuid}.wav")
    assert client.get(utterance.get_audio_url()).status_code == 200

    assert len(sandbox.calls("audio.speech")) == 2 and len(sandbox.calls("audio.transcriptions")) == 2
    # Both speeches and both checks charged to the owner's quota and metered call by call.
    speech = Usage.objects.filter(user=user, kind=Usage.Kind.SPEECH_CHARS)
    assert sorted(u.amount for u in speech) == [len(ENGLISH)] * 2
    assert Usage.objects.filter(user=user, kind=Usage.Kind.CHECK_SECONDS).count() == 2
    routes = sorted(ProviderCall.objects.filter(user=user).values_list("route", flat=True))
    assert routes == ["audio.speech", "audio.speech", "audio.transcriptions", "audio.transcriptions"]

    page = client.get(reverse("clones:speak")).content.decode()
    assert 'class="badge check-badge check-checked"' in page and "Spoken 2 times; the closest is kept." in page


@pytest.mark.worker
def test_checking_turned_off_for_the_account_makes_no_recognizer_call(
    client, user, api_token, voice_clone, sandbox, celery_worker
):
    Preferences.objects.create(user=user, check_speech=False)
    sandbox.set_faults([MISPEAK_ONCE])
    response = api_speak(client, api_token, voice_clone)  # no `check`: as the account says
    assert response.status_code == 201, response.content
    utterance = settled(Utterance.objects.get(uuid=response.json()["uuid"]))
    assert utterance.status == "ready" and utterance.check_status == "" and not utterance.check_requested
    assert sandbox.calls("audio.transcriptions") == [] and len(sandbox.calls("audio.speech")) == 1
    assert not UtteranceAttempt.objects.exists()
    assert not Usage.objects.filter(user=user, kind=Usage.Kind.CHECK_SECONDS).exists()
    answer = client.get(f"/api/v1/utterances/{utterance.uuid}", headers={"Authorization": f"Bearer {api_token}"})
    assert answer.json()["check"] is None
    client.force_login(user)
    assert 'class="badge check-badge check-unchecked"' in client.get(reverse("clones:speak")).content.decode()


@pytest.mark.worker
def test_a_request_says_otherwise_than_the_account(client, user, api_token, voice_clone, sandbox, celery_worker):
    unchecked = settled(
        Utterance.objects.get(uuid=api_speak(client, api_token, voice_clone, check=False).json()["uuid"])
    )
    assert unchecked.check_status == "" and sandbox.calls("audio.transcriptions") == []
    Preferences.objects.create(user=user, check_speech=False)
    checked = settled(Utterance.objects.get(uuid=api_speak(client, api_token, voice_clone, check=True).json()["uuid"]))
    assert checked.check_status == "passed" and len(sandbox.calls("audio.transcriptions")) == 1


@pytest.mark.worker
def test_retries_stop_after_the_setting_the_closest_is_kept_and_the_owner_accepts_it(
    client, user, api_token, voice_clone, sandbox, celery_worker
):
    sandbox.set_faults(
        [
            {"route": "audio.speech", "action": "mispeak", "mispeak": "drop", "times": 1, "seed": 1},
            {"route": "audio.speech", "action": "mispeak", "mispeak": "swap", "times": 1, "seed": 1},
            {"route": "audio.speech", "action": "mispeak", "mispeak": "drop", "times": 1, "seed": 2},
        ]
    )
    utterance = settled(Utterance.objects.get(uuid=api_speak(client, api_token, voice_clone).json()["uuid"]))
    attempts = list(UtteranceAttempt.objects.filter(utterance=utterance))
    assert [a.number for a in attempts] == [1, 2, 3]  # the speech and CHECK_MAX_RETRIES (2) more, no fourth
    assert all(a.check_status == "differs" for a in attempts) and len(sandbox.calls("audio.speech")) == 3
    best = min(attempts, key=lambda a: (a.error_rate, -a.number))
    assert [a.kept for a in attempts] == [a == best for a in attempts]
    assert utterance.check_status == "differs" and utterance.error_rate == best.error_rate
    assert utterance.audio.name == (f"utterances/{utterance.uuid}-{best.number}.wav" if best.number > 1 else
                                    f"utterances/{utterance.uuid}.wav")  # fmt: skip
    files = [f"utterances/{utterance.uuid}.wav"] + [f"utterances/{utterance.uuid}-{n}.wav" for n in (2, 3)]
    assert [name for name in files if default_storage.exists(name)] == [utterance.audio.name]

    call = schema["/api/v1/utterances/{uuid}"]["GET"].Case(path_parameters={"uuid": str(utterance.uuid)})
    check = call.call_and_validate(headers={"Authorization": f"Bearer {api_token}"}, checks=CHECKS).json()["check"]
    assert check["status"] == "differs" and check["state"] == "differs" and check["calls"] == 3
    assert [a["number"] for a in check["attempts"]] == [1, 2, 3] and sum(a["kept"] for a in check["attempts"]) == 1

    client.force_login(user)
    page = client.get(reverse("clones:speak")).content.decode()
    assert "check-differs" in page and "Accept anyway" in page
    response = client.post(reverse("clones:accept_utterance", args=[utterance.uuid]))
    assert response.status_code == 302
    accepted = Utterance.objects.get(pk=utterance.pk)
    assert accepted.check_status == "accepted" and accepted.check_state() == ("checked", "Accepted")
    # Only speech that differs can be accepted.
    assert client.post(reverse("clones:accept_utterance", args=[utterance.uuid])).status_code == 404
    again = schema["/api/v1/utterances/{uuid}/accept"]["POST"].Case(path_parameters={"uuid": str(utterance.uuid)})
    answer = again.call_and_validate(headers={"Authorization": f"Bearer {api_token}"}, checks=CHECKS)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "not_differing"


@pytest.mark.worker
def test_streamed_speech_is_checked_once_stored_and_spoken_again(
    client, user, api_token, voice_clone, sandbox, celery_worker
):
    sandbox.set_faults([MISPEAK_ONCE])
    response = api_speak(client, api_token, voice_clone, stream=True)
    assert response.status_code == 200 and response.streaming
    b"".join(response.streaming_content)
    utterance = settled(Utterance.objects.get(uuid=response["X-Utterance"]))
    assert utterance.check_status == "passed" and utterance.speech_attempts.count() == 2
    assert len(sandbox.calls("audio.speech")) == 2 and len(sandbox.calls("audio.transcriptions")) == 2


def test_the_page_follows_speech_while_it_is_heard_back(client, user):
    client.force_login(user)
    utterance = Utterance.objects.create(owner=user, system_voice="tongtong", text=ENGLISH, status="ready",
                                         check_requested=True, check_status="redoing")  # fmt: skip
    status = client.get(reverse("clones:utterance_status", args=[utterance.uuid])).json()
    assert status["finished"] and status["check_busy"] and status["check"] == "checking"
    assert "speaking it again" in status["check_html"]
    Utterance.objects.filter(pk=utterance.pk).update(check_status="passed")
    status = client.get(reverse("clones:utterance_status", args=[utterance.uuid])).json()
    assert not status["check_busy"] and status["check"] == "checked" and "check-checked" in status["check_html"]


def test_the_account_page_and_the_api_set_checking(client, user, api_token):
    client.force_login(user)
    page = client.get(reverse("account")).content.decode()
    assert "Check my speech" in page and 'name="check_speech"' in page and "checked" in page
    # The speak page's box is ticked as the account says.
    assert "checked" in str(client.get(reverse("clones:speak")).context["form"]["check_requested"])
    assert client.post(reverse("account"), {}).status_code == 302
    assert not Preferences.of(user).check_speech
    assert "checked" not in str(client.get(reverse("clones:speak")).context["form"]["check_requested"])

    bearer = {"Authorization": f"Bearer {api_token}"}
    get = schema["/api/v1/account/settings"]["GET"].Case()
    assert get.call_and_validate(headers=bearer, checks=CHECKS).json() == {"check_speech": False}
    patch = schema["/api/v1/account/settings"]["PATCH"].Case(body={"check_speech": True})
    assert patch.call_and_validate(headers=bearer, checks=CHECKS).json() == {"check_speech": True}
    assert Preferences.of(user).check_speech
    unchanged = schema["/api/v1/account/settings"]["PATCH"].Case(body={})
    assert unchanged.call_and_validate(headers=bearer, checks=CHECKS).json() == {"check_speech": True}
    bad = client.patch("/api/v1/account/settings", {"check_speech": "maybe"}, content_type="application/json",
                       headers=bearer)  # fmt: skip
    assert bad.status_code == 400 and Preferences.objects.filter(user=user).count() == 1


@pytest.mark.worker
def test_a_check_or_new_attempt_left_by_a_dead_worker_is_swept_and_made(
    client, user, api_token, voice_clone, sandbox, celery_worker, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from checks.tasks import sweep_stuck_checks

    utterance = settled(
        Utterance.objects.get(uuid=api_speak(client, api_token, voice_clone, check=False).json()["uuid"])
    )
    # As if a worker died hearing it: its lease ran out long ago.
    long_ago = timezone.now() - timedelta(seconds=settings.STUCK_AFTER_SECONDS + 5)
    Utterance.objects.filter(pk=utterance.pk).update(check_requested=True, check_status="checking",
                                                     lease_expires_at=long_ago)  # fmt: skip
    assert sweep_stuck_checks() == 1
    utterance = settled(utterance)
    assert utterance.check_status == "passed" and utterance.check_attempts == 1
    # And as if one died speaking it again: the new attempt is made once its lease ran out.
    Utterance.objects.filter(pk=utterance.pk).update(check_status="redoing", lease_expires_at=long_ago)
    assert sweep_stuck_checks() == 1
    utterance = settled(utterance)
    assert [a.kept for a in utterance.speech_attempts.all()] == [False, True]  # the newest among equals
    assert utterance.check_status == "passed"
    assert len(sandbox.calls("audio.speech")) == 2 and len(sandbox.calls("audio.transcriptions")) == 2


@pytest.mark.worker
def test_openai_compatible_speech_is_checked_as_the_account_says(
    live_server, user, api_token, voice_clone, sandbox, celery_worker
):
    import openai

    sandbox.set_faults([MISPEAK_ONCE])
    with openai.OpenAI(base_url=live_server.url + "/v1", api_key=api_token, max_retries=0) as client:
        client.audio.speech.create(model="tts-1", voice=voice_clone.name, input=ENGLISH, response_format="wav")
    utterance = settled(Utterance.objects.get())
    assert utterance.check_requested and utterance.check_status == "passed"
    assert [a.check_status for a in utterance.speech_attempts.all()] == ["differs", "passed"]
