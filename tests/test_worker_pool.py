"""The worker that `make run` (Procfile.dev) and the Procfile start: one process of task threads, enough
for every speech and recognition slot (a prefork worker of two processes kept at most two of eight
provider slots busy)."""

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import ROOT, worker_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def worker_line(procfile):
    for line in (ROOT / procfile).read_text().splitlines():
        if line.startswith("worker:"):
            return shlex.split(line.split(":", 1)[1])
    raise AssertionError(f"no worker process in {procfile}")


@pytest.mark.parametrize("procfile", ["Procfile", "Procfile.dev"])
def test_the_worker_runs_a_thread_for_every_provider_slot_of_speech_and_recognition(procfile, tmp_path, own_workers):
    command = worker_line(procfile)
    assert Path(command[0]).name == "celery"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings_test",
        "VOICECLONE_TEST_DATA_DIR": str(settings.DATA_DIR),
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PROVIDER_MAX_CONCURRENCY": "8",
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([str(Path(sys.executable).with_name("celery")), *command[1:]], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log_path.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=30)
    banner = re.search(r"concurrency: (\d+) \((\w+)\)", log_path.read_text())
    assert banner, log_path.read_text()[-3000:]
    threads, pool = int(banner[1]), banner[2]
    assert pool == "thread"
    assert threads >= 2 * 8
