"""Sentry error reports leave with no secret in them: a fake Sentry on loopback receives the real
envelopes the SDK sends, from the web process and from a real worker, and each is searched for every secret."""

import gzip
import zlib

import pytest
import sentry_sdk
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import ApiToken
from clones.models import Clone
from tests.conftest import start_worker, stop_worker, wait_until
from tests.receiver import receiving
from tests.samples import wav_bytes
from voiceclone_site import error_reports

AUDIO_MARKER = b"SAMPLE-AUDIO-MARKER-0123456789"
API_KEY = "bigmodel-key-never-leaves-4f1c2a"


def bodies(receiver):
    out = []
    for request in receiver.requests:
        body = request["body"]
        encoding = request["headers"].get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        out.append(body)
    return out


@pytest.fixture
def sentry(settings):
    settings.BIGMODEL_API_KEY = API_KEY
    with receiving() as receiver:
        dsn = f"http://public@{receiver.url.removeprefix('http://')}/1"
        error_reports.init(dsn, environment="test")
        receiver.dsn = dsn
        yield receiver
        sentry_sdk.flush(timeout=5)
        sentry_sdk.init(dsn=None)


@pytest.mark.django_db
def test_a_web_error_report_carries_no_key_token_cookie_share_token_or_audio(client, user, make_clone, sentry,
                                                                            monkeypatch, settings):  # fmt: skip
    client.raise_request_exception = False
    client.force_login(user)
    token = ApiToken.issue(user, "script")[1]
    clone = make_clone(visibility=Clone.Visibility.UNLISTED)

    def broken(*args, **kwargs):
        raise RuntimeError(f"the provider refused key {settings.BIGMODEL_API_KEY} for token {token}")

    monkeypatch.setattr("clones.views.render", broken)
    assert client.get(reverse("clones:share", args=[clone.share_token]), headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 500  # fmt: skip
    monkeypatch.setattr("clones.views.submit_clone", broken)
    sample = SimpleUploadedFile("s.wav", wav_bytes(4) + AUDIO_MARKER)
    client.post(
        reverse("clones:create"),
        {"language": "en", "visibility": "private", "consent": "on", "name": "Reported", "transcript": "",
         "preview_text": "Hello there, reported voice.", "sample": sample},
    )  # fmt: skip
    sentry_sdk.flush(timeout=10)
    received = wait_until(lambda: len(bodies(sentry)) >= 2 and bodies(sentry), timeout=15)
    everything = b"\n".join(received)
    assert b"RuntimeError" in everything and b"the provider refused key" in everything  # the report did arrive
    secrets = [API_KEY, token, clone.share_token, client.cookies["sessionid"].value, settings.SECRET_KEY]
    for secret in secrets:
        assert secret.encode() not in everything, secret[:8]
    assert AUDIO_MARKER not in everything


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_the_worker_reports_unexpected_failures_scrubbed_too(user, make_clone, sentry, own_workers):
    clone = make_clone(status=Clone.Status.QUEUED)
    clone.sample.storage.delete(clone.sample.name)  # the pipeline fails unexpectedly: its sample is gone
    worker = start_worker({"SENTRY_DSN": sentry.dsn, "VOICECLONE_TEST_API_KEY": API_KEY})
    try:
        from clones.tasks import enqueue_clone

        enqueue_clone(clone)
        wait_until(lambda: Clone.objects.filter(pk=clone.pk, status="failed").exists(), timeout=60)
        received = wait_until(lambda: bodies(sentry), timeout=30)
    finally:
        stop_worker(worker)
    everything = b"\n".join(received)
    assert f"clone={clone.pk} failed unexpectedly".encode() in everything
    assert API_KEY.encode() not in everything and clone.share_token.encode() not in everything
