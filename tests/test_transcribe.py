"""Transcript help runs as a task: queued by the page, metered, under the user's quota and in-flight limit."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import ProviderCall, Usage
from tests.audio_corpus import encode, speech_like
from tests.conftest import csp_checked_page, start_worker, stop_worker, wait_until
from tests.samples import wav_bytes
from transcripts.models import Transcription

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def real_provider(settings):
    """As with a real account: the sandbox server stands in for the provider, but the site is not in
    sandbox mode (which has no speech recognition: see the last test)."""
    settings.BIGMODEL_SANDBOX = False


def transcribe(client, data):
    return client.post(reverse("transcripts:start"), {"sample": SimpleUploadedFile("s.wav", data)})


def result(client, response):
    assert response.status_code == 202, response.content
    url = response.json()["status_url"]
    return wait_until(lambda: (answer := client.get(url).json())["finished"] and answer, timeout=60)


@pytest.mark.worker
def test_recognized_text_comes_back_from_a_task_and_is_metered(client, user, sandbox, celery_worker):
    client.force_login(user)
    answer = result(client, transcribe(client, wav_bytes(4)))
    assert answer["status"] == "done" and answer["text"]
    assert [c["status"] for c in sandbox.calls("audio.transcriptions")] == [200]
    assert Usage.objects.filter(user=user, kind=Usage.Kind.TRANSCRIPTION).count() == 1
    (call,) = ProviderCall.objects.filter(user=user)
    transcription = Transcription.objects.get()
    assert (call.route, call.subject) == ("audio.transcriptions", f"transcription:{transcription.pk}")
    assert not transcription.sample  # the sample is not kept once recognized


@pytest.mark.worker
def test_any_accepted_format_is_sent_as_the_prepared_wav(client, user, sandbox, celery_worker):
    """An Ogg Vorbis recording of 40 s: recognition gets the WAV we would upload, trimmed to 30 s."""
    client.force_login(user)
    samples, rate = speech_like(40)
    answer = result(client, transcribe(client, encode(samples, rate, container="ogg", codec="vorbis", channels=2)))
    assert answer["text"]
    assert [c["status"] for c in sandbox.calls("audio.transcriptions")] == [200]


def test_the_web_request_never_calls_the_provider(own_workers, client, user, sandbox):
    client.force_login(user)
    response = transcribe(client, wav_bytes(4))
    assert response.status_code == 202
    assert sandbox.calls("audio.transcriptions") == []
    assert Transcription.objects.get().status == Transcription.Status.QUEUED


def test_one_user_may_have_only_so_many_in_flight(own_workers, client, user, other_user, sandbox, settings):
    # No worker runs meanwhile (own_workers), so the queued ones stay in flight.
    settings.TRANSCRIPTIONS_IN_FLIGHT_PER_USER = 2
    client.force_login(user)
    assert transcribe(client, wav_bytes(4)).status_code == 202
    assert transcribe(client, wav_bytes(4)).status_code == 202
    refused = transcribe(client, wav_bytes(4))
    assert refused.status_code == 429 and "still running" in refused.json()["error"]
    assert Transcription.objects.count() == 2
    client.force_login(other_user)  # another user is not held back by the first one's
    assert transcribe(client, wav_bytes(4)).status_code == 202


def test_transcriptions_count_against_a_daily_quota(client, user, sandbox, settings):
    settings.QUOTA_TRANSCRIPTIONS_PER_DAY, settings.TRANSCRIPTIONS_IN_FLIGHT_PER_USER = 2, 10
    client.force_login(user)
    for _number in range(2):
        assert transcribe(client, wav_bytes(4)).status_code == 202
    refused = transcribe(client, wav_bytes(4))
    assert refused.status_code == 429 and "transcriptions for the last 24 hours" in refused.json()["error"]
    assert Transcription.objects.count() == 2


def test_bad_samples_are_refused_before_anything_is_queued(client, user, sandbox):
    client.force_login(user)
    assert transcribe(client, b"not audio").json() == {
        "error": "This is a text file or web page, not an audio recording."
    }
    assert transcribe(client, wav_bytes(2)).json() == {
        "error": "The sample is 2.0 s long; it needs at least 3 s of speech."
    }
    assert not Transcription.objects.exists() and not Usage.objects.exists()


def test_needs_login_and_ownership(client, user, other_user, sandbox):
    assert transcribe(client, wav_bytes(4)).status_code == 302
    client.force_login(user)
    url = transcribe(client, wav_bytes(4)).json()["status_url"]
    client.force_login(other_user)
    assert client.get(url).status_code == 404


@pytest.mark.browser
@pytest.mark.worker
def test_the_page_waits_for_the_task_and_fills_in_the_transcript(
    browser, live_server, client, user, sandbox, own_workers, tmp_path
):
    # A worker of its own: in the whole suite the shared one may still be busy with what earlier tests
    # left it, and this test is about the page waiting for the task, not about that backlog.
    worker = start_worker()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    sample = tmp_path / "sample.wav"
    sample.write_bytes(wav_bytes(4))
    with csp_checked_page(browser) as page:
        page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
        page.goto(live_server.url + reverse("clones:create"))
        page.set_input_files("input[name=sample]", str(sample))
        page.click("#transcribe")
        try:
            expect(page.locator("[name=transcript]")).not_to_have_value("", timeout=60_000)
        finally:
            stop_worker(worker)
            print("transcript help said:", page.locator("#transcribe-status").inner_text())
    assert len(sandbox.calls("audio.transcriptions")) == 1


def test_sandbox_mode_fills_in_no_transcript(client, user, sandbox, settings):
    """The sandbox answers every sample with the same Chinese sentence: that is not what an English
    sample says, so in sandbox mode nothing is filled in and the page says so."""
    settings.BIGMODEL_SANDBOX = True
    client.force_login(user)
    response = transcribe(client, wav_bytes(4))
    assert response.status_code == 409 and "text" not in response.json()
    assert "no speech recognition in sandbox mode" in response.json()["error"]
    assert sandbox.calls("audio.transcriptions") == []
    assert not Transcription.objects.exists() and not Usage.objects.exists()
    page = client.get(reverse("clones:create")).text
    assert 'id="transcribe"' not in page and "no speech recognition to fill in the transcript" in page
