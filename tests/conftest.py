"""Shared fixtures: the BigModel sandbox on loopback, a real Celery worker, a real browser.

Under CI (`CI=true`) a missing browser is a failure, never a silent skip.
"""

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from voiceclone_site.celery import worker_command

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Playwright's sync API keeps an event loop running in the test thread; Django would then refuse
# every ORM call from that thread although nothing async touches the database.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the site's default language. A request in Chinese (the test client runs
    the view in the test's thread) leaves Chinese active, and a later test would read lazy
    messages in it."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def empty_media_folder():
    """Each test starts with no stored files (the worker shares the folder, so no per-test tmp)."""
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", "ada@example.com", "correct horse battery")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "correct horse battery")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("sam", "sam@example.com", "correct horse battery", is_staff=True)


@pytest.fixture
def api_token(user):
    """A fresh API token of `user`: the secret, as the account page shows it once."""
    from accounts.models import ApiToken

    return ApiToken.issue(user, "tests")[1]


@pytest.fixture
def make_clone(user):
    """A clone as the pipeline leaves it, with a stored preview unless told otherwise."""
    from django.core.files.base import ContentFile

    from clones.models import Clone
    from tests.samples import wav_bytes

    def make_clone(owner=None, *, status=Clone.Status.READY, preview=b"", **fields):
        clone = Clone(
            owner=owner or user,
            name=fields.pop("name", "A voice"),
            provider_model="glm-tts-clone",
            preview_text="Hello there.",
            sample_format="wav",
            sample_duration=4.0,
            status=status,
            **fields,
        )
        clone.sample.save("ignored.wav", ContentFile(wav_bytes(4)), save=False)
        if status == Clone.Status.READY:
            clone.preview_audio.save(f"{clone.uuid}.wav", ContentFile(preview or wav_bytes(2)), save=False)
        clone.save()
        return clone

    return make_clone


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    from sandbox.testing import running_sandbox

    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as server:
        settings.BIGMODEL_BASE_URL = server.base_url
        yield server


@pytest.fixture
def sandbox(sandbox_server):
    """The sandbox, emptied of voices, recorded calls and faults for each test."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.clear_faults()


def worker_database_url():
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{db['NAME']}"


def start_worker(extra_env=None, concurrency=2):
    """A real `celery worker` process on the test database, broker and sandbox."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings_test",
        "VOICECLONE_TEST_DATA_DIR": str(settings.DATA_DIR),
        "VOICECLONE_TEST_BIGMODEL_URL": settings.BIGMODEL_BASE_URL,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        **(extra_env or {}),
    }
    log_path = Path(settings.DATA_DIR) / f"worker-{time.time_ns()}.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        worker_command(concurrency=concurrency),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)
    process.log_path = log_path
    return process


def stop_worker(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class SessionWorker:
    """The suite's shared worker. Tests that run workers of their own pause it, or it takes their tasks."""

    def __init__(self):
        self.process = start_worker()

    @property
    def log_path(self):
        return self.process.log_path

    @contextlib.contextmanager
    def paused(self):
        stop_worker(self.process)
        try:
            yield
        finally:
            self.process = start_worker()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, sandbox_server):
    worker = SessionWorker()
    yield worker
    stop_worker(worker.process)


@pytest.fixture
def own_workers(celery_worker):
    """For a test that starts workers of its own: the shared one is stopped meanwhile."""
    with celery_worker.paused():
        yield


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def csp_checked_page(browser, locale="en-US"):
    """A page in a fresh context; on leaving, fails if the page broke its own Content-Security-Policy."""
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.set_default_timeout(30_000)
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    yield page
    context.close()
    assert not [text for text in console_errors if "Content Security Policy" in text], console_errors


@pytest.fixture
def page(browser):
    with csp_checked_page(browser) as page:
        yield page


def wait_until(predicate, timeout=30, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
