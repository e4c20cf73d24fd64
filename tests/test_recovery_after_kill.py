"""A worker killed mid-step (one pool child, or the whole worker; Redis or the filesystem broker) leaves
its work to be resumed by the next worker, with one voice and one paid call per step.

The time this takes is measured by bench/recovery_after_kill.py (bench/README.md), not asserted here.
Here leases are 3 s and beat sweeps every second, so each case runs in seconds.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
import redis
from django.conf import settings
from django.utils import timezone

from clones.models import Clone
from tests.conftest import IN_CI, ROOT, wait_until, worker_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

REDIS_URL = os.environ.get("VOICECLONE_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
STEPS = ["files.upload", "voice.clone", "files.content"]


def _broker(name):
    if name == "filesystem":
        return settings.CELERY_BROKER_URL
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.ConnectionError:
        if IN_CI:
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


def _celery(broker, *args, log_name, pool="threads"):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings_test",
        "VOICECLONE_TEST_DATA_DIR": str(settings.DATA_DIR),
        "VOICECLONE_TEST_BIGMODEL_URL": settings.BIGMODEL_BASE_URL,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker,
        "WORK_LEASE_SECONDS": "3",
        "SWEEP_INTERVAL": "1",
        # The pool by setting: Celery takes `--pool=prefork` for "the default" and the setting wins over it.
        "WORKER_POOL": pool,
    }
    log_path = Path(settings.DATA_DIR) / f"{log_name}-{time.time_ns()}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "voiceclone_site", *args, "--loglevel=INFO"],
        cwd=ROOT,
        env=env,
        stdout=open(log_path, "w"),
        stderr=subprocess.STDOUT,
    )
    process.log_path = log_path
    return process


def _worker(broker, pool):
    process = _celery(
        broker, "worker", "--concurrency=1", "--without-mingle", "--without-gossip", log_name="worker", pool=pool
    )
    wait_until(lambda: "ready." in process.log_path.read_text() or process.poll() is not None, 60)
    assert process.poll() is None, process.log_path.read_text()[-3000:]
    return process


def _stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize("broker_name", ["filesystem", "redis"])
@pytest.mark.parametrize("killed", ["one child", "whole worker"])
def test_work_is_resumed_after_kill_9_with_one_voice_and_one_call_per_step(
    own_workers, make_clone, sandbox, tmp_path, broker_name, killed
):
    broker = _broker(broker_name)
    # The sandbox makes the voice, then holds its answer: the worker is killed waiting for it.
    sandbox.set_faults([{"route": "voice.clone", "times": 1, "action": "delay", "after_latency": 60}])
    pool = "prefork" if killed == "one child" else "threads"
    worker, beat = _worker(broker, pool), _celery(broker, "beat", "-s", str(tmp_path / "schedule"), log_name="beat")
    replacement = None
    try:
        # Queued long ago, its message lost: beat's sweep (run by the worker, on this broker) queues it.
        queued = make_clone(status=Clone.Status.QUEUED)
        Clone.objects.filter(pk=queued.pk).update(updated_at=timezone.now() - timedelta(hours=1))
        wait_until(lambda: len(sandbox.voices()) == 1, timeout=60)
        if killed == "one child":
            (child,) = psutil.Process(worker.pid).children()
            os.kill(child.pid, signal.SIGKILL)  # the parent lives on and starts a new child
        else:
            worker.kill()
            worker.wait()
            replacement = _worker(broker, pool)  # as a supervisor would restart it
        clone = wait_until(lambda: Clone.objects.filter(status=Clone.Status.READY).first(), timeout=90)
    finally:
        for process in (worker, replacement, beat):
            if process is not None:
                _stop(process)
    assert [v["voice"] for v in sandbox.voices()] == [clone.voice_id]
    calls = {step: len(sandbox.calls(step)) for step in [*STEPS, "download"]}
    # The adopted voice's answer (with its preview's file id) was lost: its preview comes by the list's link.
    assert calls == {"files.upload": 1, "voice.clone": 1, "files.content": 0, "download": 1}, calls
    assert clone.preview_audio.read()[:4] == b"RIFF"
