"""What the production-stack benchmarks share: the environment and the processes they start.

Each benchmark runs the app as production does (`voiceclone_site.settings` read from the environment,
gunicorn with gunicorn.conf.py, `celery worker`), on PostgreSQL and Redis given by URL, against the
sandbox in its own process (`python -m sandbox`). Only `bench.settings` is added: the production
settings plus a bench-only URLconf (a trivial view for comparison) and a static file to compare with.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from voiceclone_site.celery import worker_command

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
DEFAULT_BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/10")


def add_arguments(parser, *, sandbox_port=8051, web_port=8052):
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="a PostgreSQL database of its own")
    parser.add_argument("--broker-url", default=DEFAULT_BROKER_URL, help="a Redis database of its own (emptied)")
    parser.add_argument("--sandbox-port", type=int, default=sandbox_port)
    parser.add_argument("--web-port", type=int, default=web_port)


def app_env(args, data_dir, **extra):
    """The environment of every app process: production settings, the given stack, the sandbox."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.broker_url,
        "BIGMODEL_API_KEY": "",
        "SANDBOX_API_KEY": "sandbox",
        "BIGMODEL_BASE_URL": f"http://127.0.0.1:{args.sandbox_port}/api/paas/v4",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        # The benchmarks submit far more than a person may: lift the spending limits.
        "QUOTA_CLONES_PER_DAY": "1000000",
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **{key: str(value) for key, value in extra.items()},
    }


def setup_django(env):
    """Configure this process like the app's (same settings, database and broker), then django.setup()."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def empty_broker(url):
    """Drop whatever an earlier run left in the benchmark's own Redis database (a filesystem:// broker
    lives in the run's own data folder: nothing to drop)."""
    if not url.startswith("redis"):
        return
    import redis

    redis.Redis.from_url(url).flushdb()


def data_dir(prefix):
    path = Path(tempfile.mkdtemp(prefix=prefix))
    return path


def _started(process, check, timeout, what):
    """Wait for a process to answer; stop it if it never does, so no orphan outlives the script."""
    try:
        wait_until(check, timeout, what)
    except BaseException:
        process.stop()
        raise
    return process


def wait_until(check, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Process:
    """A child process with its output in a log file; `stop()` ends it (and only it)."""

    def __init__(self, name, command, env, log_dir):
        self.name = name
        self.log_path = Path(log_dir) / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def check_alive(self):
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")

    def stop(self):
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()


def _answers(process, url):
    process.check_alive()
    try:
        return requests.get(url, timeout=5).status_code < 500
    except requests.RequestException:  # not listening yet, or still importing
        return False


def start_sandbox(args, log_dir, *, latency=0.0, max_concurrency=0):
    env = {
        **os.environ,
        "SANDBOX_LATENCY": str(latency),
        "SANDBOX_MAX_CONCURRENCY": str(max_concurrency),
        "SANDBOX_API_KEY": "sandbox",
    }
    command = [sys.executable, "-m", "sandbox", "--port", str(args.sandbox_port), "--data-dir",
               str(Path(log_dir) / "sandbox")]  # fmt: skip
    process = Process("sandbox", command, env, log_dir)
    url = f"http://127.0.0.1:{args.sandbox_port}/_sandbox/calls"
    return _started(process, lambda: _answers(process, url), 30, "the sandbox")


def start_gunicorn(args, env, log_dir, *, workers=None, threads=None):
    """The Procfile's web process: `gunicorn voiceclone_site.wsgi --config gunicorn.conf.py`."""
    collectstatic(env)  # as at deploy: the manifest storage needs it
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{args.web_port}"}
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    if threads:
        env["GUNICORN_THREADS"] = str(threads)
    command = [str(BIN / "gunicorn"), "voiceclone_site.wsgi", "--config", "gunicorn.conf.py"]
    process = Process(f"gunicorn-{args.web_port}", command, env, log_dir)
    return _started(process, lambda: _answers(process, f"http://127.0.0.1:{args.web_port}/health/"), 60, "gunicorn")


def start_worker(env, log_dir, *, concurrency, pool="threads", name="worker"):
    """`celery -A voiceclone_site worker`, as the Procfile runs it."""
    command = worker_command(concurrency=concurrency, pool=pool, celery=[str(BIN / "celery")])
    # The pool by setting too: Celery takes `--pool=prefork` for "the default", which the setting overrides.
    process = Process(name, command, {**env, "WORKER_POOL": pool}, log_dir)

    def ready():
        process.check_alive()
        return "ready." in process.log_path.read_text()

    return _started(process, ready, 60, "the Celery worker")


class profile:
    """py-spy sampling a started process's CPU (on-CPU stacks only, all threads) into collapsed stacks at `path`,
    until stop(): where a worker's time goes, by function."""

    def __init__(self, process, path):
        command = [str(BIN / "py-spy"), "record", "--pid", str(process.popen.pid), "--format", "raw",
                   "--rate", "250", "--nonblocking", "--output", str(path)]  # fmt: skip
        self.popen = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # attached

    def stop(self):
        self.popen.send_signal(signal.SIGINT)
        self.popen.wait(timeout=30)


def collectstatic(env):
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT,
                   env=env, check=True)  # fmt: skip


def cleanup(path):
    shutil.rmtree(path, ignore_errors=True)


def median(values):
    import statistics

    return statistics.median(values)
