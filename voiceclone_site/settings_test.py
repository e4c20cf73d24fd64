"""Settings for the test suite: everything under a throwaway DATA_DIR, always the sandbox."""

import os
import tempfile

# Before the base settings read it: the tests must never touch a developer's data folder.
os.environ["DATA_DIR"] = os.environ.get("VOICECLONE_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="voiceclone-test-")

from .settings import *  # noqa: E402,F403
from .settings import DATA_DIR, DATABASES  # noqa: E402

# A file, not ":memory:", so that the Celery worker process sees the test database too.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

BIGMODEL_SANDBOX = True
BIGMODEL_API_KEY = os.environ.get("VOICECLONE_TEST_API_KEY", "sandbox")
# The sandbox fixture points this at its server, and passes it on to the worker it starts.
BIGMODEL_BASE_URL = os.environ.get("VOICECLONE_TEST_BIGMODEL_URL", "http://127.0.0.1:9/unset")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": STORAGES["default"],  # noqa: F405  (the S3 tests switch it, and their worker, to a bucket)
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Pages always rendered afresh, so one test's page is never another's (tests/test_gallery.py turns it on).
GALLERY_CACHE_SECONDS = 0
# The lab's similarity score costs about a second of CPU per ready clone: off, so that it never competes
# with the pipeline in other tests' workers; tests/test_lab_browser.py turns it on for its own worker.
LAB_SIMILARITY = os.environ.get("LAB_SIMILARITY", "false").lower() == "true"
# Short retries; a test that must catch a worker waiting to retry asks its worker for longer ones.
CLONE_RETRY_BASE_DELAY = float(os.environ.get("VOICECLONE_TEST_RETRY_BASE_DELAY", "0.05"))
CLONE_RETRY_MAX_DELAY = 0.5
# No collectstatic before tests: whitenoise serves straight from the app and project folders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Webhook receivers in the tests listen on loopback; retries come quickly and end after seconds.
WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
WEBHOOK_RETRY_BASE_DELAY = 0.2
WEBHOOK_RETRY_FOR_SECONDS = 3
WEBHOOK_TIMEOUT_SECONDS = 5.0
