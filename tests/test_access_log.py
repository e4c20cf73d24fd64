"""Access logs never hold share tokens: `make run`'s runserver and gunicorn both log /s/<token>/ redacted."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from clones.models import Clone
from tests.conftest import ROOT, worker_database_url

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url, **headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _serve(command, port, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings_test",
        "VOICECLONE_TEST_DATA_DIR": str(settings.DATA_DIR),
        "DATABASE_URL": worker_database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    log_path = Path(tmp_path) / "server.log"
    log = open(log_path, "w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(log_path.read_text()) from None
            time.sleep(0.1)
    return process, log_path


def _requests_leave_no_token(base, process, log_path, clone):
    token = clone.share_token
    try:
        assert _get(f"{base}/s/{token}/") == 200
        assert _get(f"{base}/s/{token}/audio/", Referer=f"{base}/s/{token}/") == 200
        assert _get(f"{base}/s/not-a-real-token/") == 404
        assert _get(f"{base}/health/") in (200, 503)  # the last line, so the earlier ones are flushed
        time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=20)
    log = log_path.read_text()
    assert "/s/<token>/audio/" in log, log  # the requests were logged ...
    assert token not in log and "not-a-real-token" not in log  # ... without their tokens
    return log


@pytest.fixture
def shared_clone(make_clone):
    return make_clone(visibility=Clone.Visibility.UNLISTED)


def test_runserver_access_log_has_no_share_tokens(shared_clone, tmp_path):
    port = _free_port()
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"]
    process, log_path = _serve(command, port, tmp_path)
    _requests_leave_no_token(f"http://127.0.0.1:{port}", process, log_path, shared_clone)


def test_gunicorn_access_log_has_no_share_tokens_even_in_the_referer(shared_clone, tmp_path):
    port = _free_port()
    command = [
        sys.executable, "-m", "gunicorn", "voiceclone_site.wsgi", "--config", "gunicorn.conf.py",
        "--access-logformat", '%(h)s "%(r)s" %(s)s "%(f)s" %(U)s',
    ]  # fmt: skip
    process, log_path = _serve(command, port, tmp_path)
    log = _requests_leave_no_token(f"http://127.0.0.1:{port}", process, log_path, shared_clone)
    assert f'"http://127.0.0.1:{port}/s/<token>/"' in log
