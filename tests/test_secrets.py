"""The API key never reaches a page, a log line, an error message, the admin or the database."""

import logging
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from clones.models import Clone
from sandbox.testing import running_sandbox
from tests.conftest import start_worker, stop_worker, wait_until
from tests.samples import wav_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

KEY = "test-0123456789abcdef0123456789abcdef-not-a-real-key"  # long and unique enough to find anywhere


def submit(client, name):
    form = {"name": name, "preview_text": "Hi.", "language": "en", "visibility": "private", "consent": "on",
            "sample": SimpleUploadedFile("s.wav", wav_bytes(4))}  # fmt: skip
    client.post(reverse("clones:create"), form)


def test_key_is_nowhere_to_be_seen(own_workers, client, user, admin_user, settings, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with running_sandbox(tmp_path / "sandbox", api_key=KEY) as provider:
        settings.BIGMODEL_API_KEY, settings.BIGMODEL_BASE_URL = KEY, provider.base_url
        worker = start_worker({"VOICECLONE_TEST_API_KEY": KEY, "VOICECLONE_TEST_BIGMODEL_URL": provider.base_url})
        try:
            client.force_login(user)
            submit(client, "Works")
            wait_until(lambda: Clone.objects.filter(name="Works", status="ready").exists(), timeout=60)
            # A failure whose error message might echo what it was sent.
            provider.set_faults([{"route": "voice.clone", "action": "error", "status": 401, "code": "1002",
                                  "message": "Authorization Token非法", "times": None}])  # fmt: skip
            submit(client, "Fails")
            failed = wait_until(lambda: Clone.objects.filter(name="Fails", status="failed").first(), timeout=60)
        finally:
            stop_worker(worker)
    assert failed.error_code == "1002"  # the key was really used, and really refused

    seen = [
        client.get(url).text for url in (failed.get_absolute_url(), reverse("clones:mine"), reverse("clones:create"))
    ]
    client.force_login(admin_user)
    seen += [client.get(url).text for url in ("/admin/clones/clone/", f"/admin/clones/clone/{failed.pk}/change/")]
    dump = tmp_path / "dump.json"
    call_command("dumpdata", output=str(dump), verbosity=0)
    worker_log = Path(worker.log_path).read_text()
    assert "route=voice.clone status=401 code=1002" in worker_log
    for place in (*seen, dump.read_text(), worker_log, caplog.text, failed.error_message, str(failed.failure_reason)):
        assert KEY not in place and KEY[:32] not in place
