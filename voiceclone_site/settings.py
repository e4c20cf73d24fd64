"""Settings for Voiceclone.

Every knob comes from the environment (or a local `.env`), and every default works on a laptop:
SQLite, a broker that needs no server, media on disk, and the built-in BigModel sandbox when no
API key is set. See `.env.example` and the configuration table in README.md.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

# Everything the embedded defaults write (database, broker queue, media, sandbox state) lives here.
DATA_DIR = Path(env("DATA_DIR", default=str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# Prometheus metrics in multiprocess mode: every web and worker process of this machine writes its
# values to files in this folder, and /metrics adds them up. It must be set before prometheus_client
# makes its first metric, hence here, at the top. Empty it when all processes are stopped (README).
METRICS_DIR = Path(env("PROMETHEUS_MULTIPROC_DIR", default=str(DATA_DIR / "metrics")))
METRICS_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)
# /metrics answers only a scraper sending METRICS_TOKEN as a bearer token, or one whose address is in
# METRICS_ALLOWED_NETWORKS (CIDRs; behind a proxy on the same machine every visitor comes from
# 127.0.0.1, so allow loopback only when nothing proxies to this port). Neither set: a 404 for all.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])


def _local_secret_key():
    # A stable per-install key, so sessions survive restarts without anyone having to set one.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env("SECRET_KEY", default="") or _local_secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "clones",
    "lab",
    "transcripts",
    "studio",
    "checks",
    "accounts",
    "library",
    "home",
    "webhooks",
    "metrics",
    "privacy",
    "openai_compat",
    "axes",
    # Django Ninja: the JSON API's OpenAPI document and its bundled Swagger UI (templates, static files).
    "ninja",
]

MIDDLEWARE = [
    # First, so that it times everything below it (metrics.middleware).
    "metrics.middleware.RequestMetricsMiddleware",
    # Then: HEAD is answered as GET without a body, other methods than GET/HEAD/POST get 405.
    "voiceclone_site.methods.HttpMethodsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

# Login brute force: after LOGIN_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is locked out for LOGIN_LOCKOUT_MINUTES; after LOGIN_FAILURE_LIMIT_PER_ADDRESS wrong
# passwords from one address, whatever the usernames, the address is (accounts/lockout.py says why
# this is a failure limit and not a lockout parameter).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=20)
AXES_FAILURE_LIMIT = "accounts.lockout.failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# No inline scripts or styles anywhere in our pages, so the policy can be strict.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Behind HTTPS in production (HTTPS=true): secure cookies, HSTS, redirects. Behind a proxy that ends
# TLS, set TRUST_X_FORWARDED_PROTO=true so Django believes its X-Forwarded-Proto header.
HTTPS = env.bool("HTTPS", default=False)
if HTTPS:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # load balancers probe over plain HTTP
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"

ROOT_URLCONF = "voiceclone_site.urls"
# In the site's style; an upload over the size limit is not read, so its form's CSRF token never
# arrives: that one is answered with why (clones.uploads.upload_too_large_answer).
CSRF_FAILURE_VIEW = "voiceclone_site.errors.csrf_failure"
WSGI_APPLICATION = "voiceclone_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clones.context_processors.site",
            ],
        },
    },
]

# Speech: long texts are split into parts of at most 1024 characters, spoken in parallel.
SPEECH_MAX_TEXT_CHARS = env.int("SPEECH_MAX_TEXT_CHARS", default=10_000)
SPEECH_PARALLEL_PARTS = env.int("SPEECH_PARALLEL_PARTS", default=4)
SPEECH_PAUSE_SECONDS = 0.3
# Streamed speech (clones/streaming.py) is served from the web process, one request thread a stream for
# its whole length: a process serves at most this many at once (the rest answer 503 before any audio),
# so the site's pages always keep GUNICORN_THREADS - STREAMS_PER_PROCESS threads of their own.
STREAMS_PER_PROCESS = env.int("STREAMS_PER_PROCESS", default=16)
# Provider calls in flight at once across all workers; past it calls wait (up to the second value).
PROVIDER_MAX_CONCURRENCY = env.int("PROVIDER_MAX_CONCURRENCY", default=4)
PROVIDER_SLOT_WAIT_SECONDS = env.float("PROVIDER_SLOT_WAIT_SECONDS", default=120.0)
# Task threads of a Celery worker process (CELERY_WORKER_CONCURRENCY below). A task holds its thread
# while it waits for a provider slot, while it calls, and while it stores the result. Speech and
# recognition (the checks) have PROVIDER_MAX_CONCURRENCY slots each, and a studio "generate all" keeps
# both busy at once, so a worker needs a thread for every slot of both and as many again to store the
# takes that came back and have the next ones ready for the slots they free: with fewer, checks hold
# the threads and the speech slots stand idle (cap 8: 20 threads 1.30x to 1.43x the ideal, 24 threads
# 1.17x to 1.19x, 28 no better; bench/README.md, studio).
WORKER_CONCURRENCY = env.int("WORKER_CONCURRENCY", default=3 * PROVIDER_MAX_CONCURRENCY)
# Seconds a worker thread keeps the interpreter while others wait for it (Python's default is 0.005);
# see voiceclone_site/celery.py.
WORKER_SWITCH_INTERVAL = env.float("WORKER_SWITCH_INTERVAL", default=0.0005)

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}")}
# Connections are checked before reuse, so a restarted database server is no problem.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool("DATABASE_POOL", default=True):
    # Opening a PostgreSQL connection starts a server process (about 5 ms here), and Celery closes a
    # task's connections after every task whatever CONN_MAX_AGE says. With Django's pool, "closing"
    # hands the connection back to this process's pool instead. The pool opens connections only as
    # threads need them, one per thread at most; the default ceiling covers the busiest process, a
    # worker whose task threads each speak SPEECH_PARALLEL_PARTS parts at once (every part waits for
    # its provider slot holding a connection), so no thread ever waits for the pool itself.
    _busiest = WORKER_CONCURRENCY * (1 + SPEECH_PARALLEL_PARTS)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=_busiest),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=30.0),
    }
else:
    # Keep connections between requests (Celery still closes a task's connection after each task).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker write to the same file: WAL lets readers and one writer
    # work side by side, IMMEDIATE transactions queue writers instead of failing with "locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
SIGNUP_ENABLED = env.bool("SIGNUP_ENABLED", default=True)
# Console by default (password reset mails appear in the web process's output); SMTP by EMAIL_URL.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
# A new account spends nothing at the provider until its address is confirmed by a mailed link: on by
# default once mail really goes out (EMAIL_URL set), so a new sign-up is not a fresh quota.
SIGNUP_EMAIL_CONFIRMATION = env.bool("SIGNUP_EMAIL_CONFIRMATION", default=bool(env.str("EMAIL_URL", default="")))
# Abuse limits, counted over the last hour: sign-ups per network address and in all, password-reset
# requests per network address and mails per email address.
SIGNUPS_PER_ADDRESS_PER_HOUR = env.int("SIGNUPS_PER_ADDRESS_PER_HOUR", default=3)
SIGNUPS_PER_HOUR = env.int("SIGNUPS_PER_HOUR", default=100)
PASSWORD_RESETS_PER_ADDRESS_PER_HOUR = env.int("PASSWORD_RESETS_PER_ADDRESS_PER_HOUR", default=5)
PASSWORD_RESET_MAILS_PER_EMAIL_PER_HOUR = env.int("PASSWORD_RESET_MAILS_PER_EMAIL_PER_HOUR", default=2)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Voiceclone <noreply@localhost>")

# The interface language follows the browser's Accept-Language (zh, zh-CN, zh-SG, zh-Hans all reach
# zh-hans) until someone picks one with the switcher; that choice is kept in a cookie for a year.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(DATA_DIR / "media")))
# Samples and audio: a folder by default; STORAGE=s3 puts them in an S3-compatible bucket so that web
# and workers can run on different machines (they only ever use the storage API, never paths).
STORAGE = env("STORAGE", default="filesystem")
if STORAGE == "s3":
    _media_storage = {
        "BACKEND": "clones.storage.S3MediaStorage",  # django-storages' S3Storage that reads ranges
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            "endpoint_url": env("S3_ENDPOINT_URL", default=None),
            "region_name": env("S3_REGION", default=None),
            # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, read by boto3 from the environment.
            "location": env("S3_PREFIX", default=""),
            "default_acl": None,  # objects stay private: audio is served only through access-checked views
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif STORAGE == "filesystem":
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(f"STORAGE must be 'filesystem' or 's3', not {STORAGE!r}")
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Django's cache: in each process by default; CACHE_URL=redis://host:6379/1 shares it between machines.
CACHES = {
    "default": env.cache_url("CACHE_URL", default="locmemcache://"),
    # What workers learn from the provider for the web to read (the system voices): shared by every process,
    # so a folder under DATA_DIR by default, or e.g. redis://host:6379/1 across machines.
    "provider": env.cache_url("PROVIDER_CACHE_URL", default=f"filecache://{DATA_DIR / 'cache'}"),
}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # Room for the voice cards of a few hundred gallery pages (about 2 KB each; library.cards).
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 5000)
# How long anonymous visitors may be shown the same rendered gallery page (0: render every time).
GALLERY_CACHE_SECONDS = env.int("GALLERY_CACHE_SECONDS", default=10)
# How long a rendered voice card is kept. Its key covers everything it shows, so this bounds memory,
# not staleness (library.cards); 0 renders every card every time.
CARD_CACHE_SECONDS = env.int("CARD_CACHE_SECONDS", default=3600)

# Celery. The default broker is kombu's filesystem transport: a folder, no server to run.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        # An idle worker looks at the folder this often, and a new task waits for the next look: at
        # 0.2 s, a regenerated line's take waited 0.15 s on average before a 0.5 s provider call
        # (bench/README.md, studio). A look lists one small folder: 20 a second cost next to nothing.
        "polling_interval": 0.05,
    }
# Tasks wait on the provider, not the CPU: one process of threads, so that the provider slots freed by
# one thread wake the next at once (clones/provider_slots.py), as `make run` and the Procfile both run it.
# WORKER_POOL=prefork runs processes instead. It must be a setting: Celery reads `--pool=prefork` on
# the command line as "the default", which this setting then overrides.
CELERY_WORKER_POOL = env.str("WORKER_POOL", default="threads")
CELERY_WORKER_CONCURRENCY = WORKER_CONCURRENCY
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only once it has finished, so a worker that dies mid-task hands it back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Checks have a queue of their own, which every worker also consumes (first, on Redis): a take's check
# starts while other lines are still waiting to be spoken, not after all of them.
CELERY_TASK_QUEUES = (Queue("checks"), Queue("celery"))
CELERY_TASK_ROUTES = {
    "checks.tasks.check_take": {"queue": "checks"},
    "checks.tasks.check_utterance": {"queue": "checks"},
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # An unacknowledged task goes back to the queue after this long: longer than the slowest task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        # A free worker thread takes a waiting check before more speech (CELERY_TASK_QUEUES lists "checks"
        # first): a take is heard back soon after it is made, not after every line is spoken.
        "queue_order_strategy": "priority",
    }
# How long the provider's list of system voices is kept before the beat task fetches it again.
SYSTEM_VOICES_REFRESH = env.float("SYSTEM_VOICES_REFRESH", default=6 * 3600.0)
# Celery beat: the sweep finds work a dead worker left behind (see clones.tasks.sweep_stuck_work). Every
# 15 s, so that work whose lease ran out (WORK_LEASE_SECONDS) is queued again within a minute of the
# worker's death, on any broker (the filesystem broker loses a dead worker's unfinished message).
SWEEP_INTERVAL = env.float("SWEEP_INTERVAL", 15.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-work": {"task": "clones.tasks.sweep_stuck_work", "schedule": SWEEP_INTERVAL},
    "sweep-stuck-takes": {"task": "studio.tasks.sweep_stuck_takes", "schedule": SWEEP_INTERVAL},
    "sweep-abandoned-transcriptions": {"task": "transcripts.tasks.sweep_abandoned", "schedule": SWEEP_INTERVAL},
    "sweep-stuck-checks": {"task": "checks.tasks.sweep_stuck_checks", "schedule": SWEEP_INTERVAL},
    "refresh-system-voices": {"task": "clones.tasks.refresh_system_voices", "schedule": SYSTEM_VOICES_REFRESH},
}
CELERY_BEAT_SCHEDULE["send-due-webhooks"] = {"task": "webhooks.tasks.send_due_webhooks", "schedule": 30.0}
CELERY_BEAT_SCHEDULE["sweep-personal-data"] = {"task": "privacy.tasks.sweep_personal_data", "schedule": 3600.0}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# BigModel. Without an API key the app talks to the local sandbox (`python -m sandbox`).
BIGMODEL_API_KEY = env("BIGMODEL_API_KEY", default="")
BIGMODEL_SANDBOX = not BIGMODEL_API_KEY
SANDBOX_PORT = env.int("SANDBOX_PORT", default=8100)
if BIGMODEL_SANDBOX:
    BIGMODEL_API_KEY = env("SANDBOX_API_KEY", default="sandbox")
BIGMODEL_BASE_URL = env(
    "BIGMODEL_BASE_URL",
    default=(
        f"http://127.0.0.1:{SANDBOX_PORT}/api/paas/v4" if BIGMODEL_SANDBOX else "https://open.bigmodel.cn/api/paas/v4"
    ),
)
BIGMODEL_CLONE_MODEL = env("BIGMODEL_CLONE_MODEL", default="glm-tts-clone")
BIGMODEL_TTS_MODEL = env("BIGMODEL_TTS_MODEL", default="glm-tts")
BIGMODEL_CONNECT_TIMEOUT = env.float("BIGMODEL_CONNECT_TIMEOUT", default=5.0)
BIGMODEL_READ_TIMEOUT = env.float("BIGMODEL_READ_TIMEOUT", default=60.0)
# Sent as `watermark_enabled` with every speech request. The provider marks generated speech as AI-made
# (an audible and a hidden watermark) unless this is off AND the account has turned watermarks off in the
# BigModel console; see the README before turning it off.
BIGMODEL_WATERMARK = env.bool("BIGMODEL_WATERMARK", default=True)

# Webhooks: each delivery is tried with doubling pauses from WEBHOOK_RETRY_BASE_DELAY (capped at an
# hour) until WEBHOOK_RETRY_FOR_SECONDS after the event. Requests to private, loopback, link-local and
# other non-public addresses are refused unless the address is in WEBHOOK_ALLOWED_NETWORKS (CIDRs).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_RETRY_BASE_DELAY = env.float("WEBHOOK_RETRY_BASE_DELAY", default=60.0)
WEBHOOK_RETRY_FOR_SECONDS = env.int("WEBHOOK_RETRY_FOR_SECONDS", default=24 * 3600)
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])

# People's data: how long a user's downloadable archive of their data is kept.
EXPORT_KEEP_DAYS = env.int("EXPORT_KEEP_DAYS", default=7)

# The clone pipeline.
CLONE_MAX_RETRIES = env.int("CLONE_MAX_RETRIES", default=5)
CLONE_RETRY_BASE_DELAY = env.float("CLONE_RETRY_BASE_DELAY", default=2.0)
CLONE_RETRY_MAX_DELAY = env.float("CLONE_RETRY_MAX_DELAY", default=120.0)
# Work with no progress for this long is taken to be lost (a worker died) and is queued again.
STUCK_AFTER_SECONDS = env.int("STUCK_AFTER_SECONDS", default=600)
# How long a worker's hold on a piece of provider work (a clone, an utterance, a transcription) lasts
# without renewal. A worker renews it every third of that while it works (clones.leases), so a slow
# call keeps it; a killed worker's hold runs out within this many seconds, and the next sweep queues
# the work again. (CLONE_LEASE_SECONDS is the older name.)
WORK_LEASE_SECONDS = env.int("WORK_LEASE_SECONDS", default=env.int("CLONE_LEASE_SECONDS", default=30))
CLONE_LEASE_SECONDS = WORK_LEASE_SECONDS

# Cost control: what one user may spend at the provider in 24 hours (staff can override per user).
QUOTA_CLONES_PER_DAY = env.int("QUOTA_CLONES_PER_DAY", default=10)
QUOTA_SPEECH_CHARS_PER_DAY = env.int("QUOTA_SPEECH_CHARS_PER_DAY", default=100_000)
# Seconds of speech heard back by the recognizer to check takes (checks/): ten hours a day.
QUOTA_CHECK_SECONDS_PER_DAY = env.int("QUOTA_CHECK_SECONDS_PER_DAY", default=36_000)
RATE_LIMIT_PER_MINUTE = env.int("RATE_LIMIT_PER_MINUTE", default=6)
# Transcript help: recognitions per user a day, and how many of one user's may wait or run at once.
QUOTA_TRANSCRIPTIONS_PER_DAY = env.int("QUOTA_TRANSCRIPTIONS_PER_DAY", default=30)
TRANSCRIPTIONS_IN_FLIGHT_PER_USER = env.int("TRANSCRIPTIONS_IN_FLIGHT_PER_USER", default=1)

# Samples: the provider takes mp3/wav up to 10 MB, ideally 3 to 30 s of speech.
SAMPLE_MAX_BYTES = env.int("SAMPLE_MAX_BYTES", default=10 * 1024 * 1024)
SAMPLE_MIN_SECONDS = 3.0
SAMPLE_MAX_SECONDS = 30.0
# The clone fidelity lab's similarity score (lab/similarity.py): needs the optional `resemblyzer` package
# (requirements-lab.txt); without it, or with this off, the rest of the lab works and no score is shown.
LAB_SIMILARITY = env.bool("LAB_SIMILARITY", default=True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The sample's size is checked while it streams in, before it is all read (clones.uploads).
FILE_UPLOAD_HANDLERS = [
    "clones.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Every line goes through the redaction of share tokens (runserver's request lines included).
    "filters": {"redact_share_tokens": {"()": "voiceclone_site.log_redaction.RedactShareTokens"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_share_tokens"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"level": "INFO"},
        # runserver's access log: Django's default sends it to a handler of its own, unfiltered.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Error reports to Sentry, from web and worker alike, scrubbed of secrets (voiceclone_site/error_reports.py).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from voiceclone_site.error_reports import init as _init_error_reports

    _init_error_reports(SENTRY_DSN, environment=env("SENTRY_ENVIRONMENT", default="production"))
# Checking speech (checks/): every take, and one-off speech of an owner who checks speech, is heard back by
# the provider's recognizer and compared with its text. A take whose error rate (CER for Chinese, WER for
# English, after normalizing both) is over CHECK_MAX_ERROR_RATE "differs" and is made again, up to
# CHECK_MAX_RETRIES more takes (one-off speech: more attempts, the best one kept). The sandbox
# hears its own correct speech at exactly 0.0, and one word wrong in a 50-token line is 0.02: 0.01
# catches a single slip in lines of up to 100 words or characters (README: "Checked speech").
CHECK_MAX_ERROR_RATE = env.float("CHECK_MAX_ERROR_RATE", default=0.01)
CHECK_MAX_RETRIES = env.int("CHECK_MAX_RETRIES", default=2)
# The recognizer takes at most 30 s of audio: longer takes are heard in pieces cut at a quiet moment.
CHECK_PIECE_SECONDS = env.float("CHECK_PIECE_SECONDS", default=28.0)
BIGMODEL_ASR_MODEL = env.str("BIGMODEL_ASR_MODEL", default="glm-asr-2512")
