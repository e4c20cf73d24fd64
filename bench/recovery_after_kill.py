"""Benchmark: how long after `kill -9` of a worker mid-clone the clone is ready, on both brokers.

With the default settings (leases of WORK_LEASE_SECONDS=30 renewed every 10 s, beat sweeping every
SWEEP_INTERVAL=15 s), for each broker (the embedded filesystem one and Redis) and each way to die
(one prefork pool child, or the whole worker, restarted at once as a supervisor would), it:

1. starts `celery worker` and `celery beat` on a throwaway SQLite database and folder, and the sandbox
   in a process of its own, whose clone call creates the voice and then holds its answer for 60 s;
2. leaves a clone queued with its message lost, so that beat's sweep queues it (not timed);
3. once the sandbox holds the voice (the worker is waiting for the answer), kills the pool child or
   the worker with SIGKILL and starts the clock;
4. stops the clock when the clone is ready, and checks one voice and one paid call per step.

    .venv/bin/python bench/recovery_after_kill.py [--redis redis://127.0.0.1:6379/11] [--rounds 1]
"""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA_DIR = Path(tempfile.mkdtemp(prefix="voiceclone-bench-recovery-"))
SANDBOX_PORT = 8062
ENV = {
    **os.environ,
    "DATA_DIR": str(DATA_DIR),
    "SECRET_KEY": secrets.token_urlsafe(40),
    "DATABASE_URL": f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
    "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings",
    "BIGMODEL_API_KEY": "",
    "SANDBOX_PORT": str(SANDBOX_PORT),
    "CELERY_BROKER_URL": "filesystem://",
}
os.environ.update({k: ENV[k] for k in ("DATA_DIR", "SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
os.environ.update({k: ENV[k] for k in ("BIGMODEL_API_KEY", "SANDBOX_PORT", "CELERY_BROKER_URL")})

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
import redis  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from clones.models import Clone  # noqa: E402
from sandbox.testing import SandboxControl  # noqa: E402
from tests.samples import wav_bytes  # noqa: E402


def wait(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"not within {timeout} s")


def celery(broker, *args, name, pool="threads"):
    log = DATA_DIR / f"{name}-{time.time_ns()}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "voiceclone_site", *args, "--loglevel=INFO"],
        cwd=ROOT,
        # The pool by setting: Celery takes `--pool=prefork` for "the default" and the setting wins over it.
        env={**ENV, "CELERY_BROKER_URL": broker, "WORKER_POOL": pool},
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )
    process.log = log
    return process


def worker(broker, pool):
    process = celery(
        broker, "worker", "--concurrency=1", "--without-mingle", "--without-gossip", name="worker", pool=pool
    )
    wait(lambda: "ready." in process.log.read_text(), 60)
    return process


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def one_case(sandbox, owner, broker, killed):
    sandbox.reset()
    sandbox.set_faults([{"route": "voice.clone", "times": 1, "action": "delay", "after_latency": 60}])
    Clone.objects.all().delete()
    pool = "prefork" if killed == "one child" else "threads"
    running = [
        worker(broker, pool),
        celery(broker, "beat", "-s", str(DATA_DIR / f"beat-{time.time_ns()}"), name="beat"),
    ]
    try:
        clone = Clone(owner=owner, name="Bench", provider_model="glm-tts-clone", preview_text="Hello there.",
                      sample_format="wav", sample_duration=4.0)  # fmt: skip
        clone.sample.save("s.wav", ContentFile(wav_bytes(4)), save=False)
        clone.save()
        Clone.objects.filter(pk=clone.pk).update(updated_at=timezone.now() - timedelta(hours=1))
        wait(lambda: len(sandbox.voices()) == 1, 120)
        time.sleep(1)  # the worker is now waiting for the clone call's answer
        if killed == "one child":
            (child,) = psutil.Process(running[0].pid).children()
            os.kill(child.pid, signal.SIGKILL)
        else:
            running[0].kill()
            running[0].wait()
        killed_at = time.monotonic()
        if killed != "one child":
            running.append(worker(broker, pool))
        wait(lambda: Clone.objects.filter(pk=clone.pk, status=Clone.Status.READY).exists(), 300, 0.05)
        seconds = time.monotonic() - killed_at
    finally:
        for process in running:
            stop(process)
    clone.refresh_from_db()
    calls = {route: len(sandbox.calls(route)) for route in ("files.upload", "voice.clone", "files.content", "download")}
    voices = [v["voice"] for v in sandbox.voices()]
    assert voices == [clone.voice_id], voices
    assert calls["files.upload"] == calls["voice.clone"] == calls["files.content"] + calls["download"] == 1, calls
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    owner = User.objects.create(username="bench")
    sandbox_process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(SANDBOX_PORT), "--data-dir", str(DATA_DIR / "sandbox")],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
    )
    sandbox = SandboxControl(f"http://127.0.0.1:{SANDBOX_PORT}", "sandbox")
    wait(lambda: _up(sandbox), 30)
    redis.Redis.from_url(args.redis).flushdb()
    try:
        for _round in range(args.rounds):
            for broker in ("filesystem://", args.redis):
                for killed in ("one child", "whole worker"):
                    seconds = one_case(sandbox, owner, broker, killed)
                    name = "filesystem" if broker.startswith("filesystem") else "redis"
                    print(f"{name:10} {killed:12} ready {seconds:5.1f} s after kill -9 (one voice, one call per step)",
                          flush=True)  # fmt: skip
    finally:
        sandbox_process.terminate()
        sandbox_process.wait()


def _up(sandbox):
    try:
        sandbox.calls()
        return True
    except Exception:
        return False


if __name__ == "__main__":
    main()
