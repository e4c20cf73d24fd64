"""The Procfile's web process: gunicorn with our config serves pages, static files and `/health/`."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.conftest import ROOT, wait_until, worker_database_url
from tests.test_storage_s3 import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def procfile_command(name):
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return shlex.split(line.split(":", 1)[1])
    raise AssertionError(f"no {name} process in the Procfile")


@pytest.fixture
def gunicorn_url(tmp_path):
    port = free_port()
    command = procfile_command("web")
    assert command[0] == "gunicorn"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings_test",
        "VOICECLONE_TEST_DATA_DIR": str(settings.DATA_DIR),
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    log = open(tmp_path / "gunicorn.log", "w")
    binary = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen([binary, *command[1:]], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def serving():
        assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
        try:
            return requests.get(url + "/health/", timeout=2)
        except requests.RequestException:  # not listening yet, or a first request slow on a busy machine
            return None

    wait_until(serving, timeout=30)
    yield url
    process.terminate()
    process.wait(timeout=30)
    log.close()
    access_log = (tmp_path / "gunicorn.log").read_text()
    assert '"GET /health/ HTTP/1.1" 200' in access_log


def test_gunicorn_serves_health_pages_static_files_and_audio(gunicorn_url, make_clone):
    health = requests.get(gunicorn_url + "/health/", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    gallery = requests.get(gunicorn_url + "/gallery/", headers={"host": "localhost"}, timeout=5)
    assert gallery.status_code == 200 and "Voice library" in gallery.text
    css = requests.get(gunicorn_url + "/static/clones/site.css", timeout=5)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")

    # Audio through the access-checked view under gunicorn: exactly the range asked for.
    audio = bytes(range(256)) * 400
    clone = make_clone(visibility="public", preview=audio)
    ranged = requests.get(gunicorn_url + clone.preview_url, headers={"range": "bytes=1000-66535"}, timeout=5)
    assert ranged.status_code == 206 and ranged.headers["content-range"] == f"bytes 1000-66535/{len(audio)}"
    assert ranged.content == audio[1000:66536]
    whole = requests.get(gunicorn_url + clone.preview_url, timeout=5)
    assert whole.status_code == 200 and whole.content == audio


def test_procfile_runs_web_worker_and_beat():
    assert procfile_command("worker")[:4] == ["celery", "-A", "voiceclone_site", "worker"]
    assert procfile_command("beat")[:4] == ["celery", "-A", "voiceclone_site", "beat"]
    assert procfile_command("release") == ["python", "manage.py", "migrate", "--noinput"]
