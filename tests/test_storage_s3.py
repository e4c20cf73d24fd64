"""Samples and audio in an S3-compatible bucket: web and worker share nothing but the bucket.

The bucket is a real S3 API over HTTP (moto's server, started here on loopback), not a mock of our code.
The worker gets its storage from the environment, as on another machine.
"""

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clones.models import Clone, Utterance
from tests.conftest import start_worker, stop_worker, wait_until
from tests.samples import wav_bytes, wav_duration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "voiceclone-test", "AWS_SECRET_ACCESS_KEY": "voiceclone-test-secret"}
REGION = "us-east-1"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """moto's S3 server in its own process, on a free loopback port."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"

    def answers():
        try:
            return requests.get(endpoint + "/moto-api/", timeout=2).ok
        except requests.RequestException:
            return process.poll() is not None  # stop waiting if it died; the assert below says so

    wait_until(answers, timeout=30)
    assert process.poll() is None, "moto's S3 server did not start"
    yield endpoint
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch):
    """A fresh bucket, made the web side's media storage for this test."""
    name = f"voiceclone-{time.time_ns()}"
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    s3 = boto3.resource("s3", endpoint_url=s3_endpoint, region_name=REGION)
    s3.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "clones.storage.S3MediaStorage",
            "OPTIONS": {"bucket_name": name, "endpoint_url": s3_endpoint, "region_name": REGION, "default_acl": None},
        },
    }
    yield s3.Bucket(name)


@pytest.fixture
def s3_worker(bucket, s3_endpoint, sandbox, own_workers):
    """A worker that knows the bucket only from its environment, as one on another machine would."""
    env = {"STORAGE": "s3", "S3_BUCKET": bucket.name, "S3_ENDPOINT_URL": s3_endpoint, "S3_REGION": REGION}
    process = start_worker({**env, **CREDENTIALS})
    yield process
    stop_worker(process)


@contextlib.contextmanager
def bucket_requests(storage):
    """The S3 requests a storage sends meanwhile, as (operation, Range header), seen by botocore."""
    sent = []

    def record(request, event_name, **kwargs):
        value = request.headers.get("Range")
        sent.append((event_name.split(".")[-1], value.decode() if isinstance(value, bytes) else value))

    events = storage.bucket.meta.client.meta.events
    events.register("before-send.s3", record)
    try:
        yield sent
    finally:
        events.unregister("before-send.s3", record)


def keys(bucket):
    return sorted(obj.key for obj in bucket.objects.all())


def local_media_files():
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_clone_speak_and_delete_with_files_only_in_the_bucket(client, user, bucket, sandbox, s3_worker):
    client.force_login(user)
    response = client.post(
        reverse("clones:create"),
        {
            "language": "en",
            "visibility": "public",
            "consent": "on",
            "name": "Bucket voice",
            "preview_text": "Hello from a bucket.",
            "transcript": "",
            "sample": SimpleUploadedFile("my voice.wav", wav_bytes(5)),
        },
    )
    assert response.status_code == 302
    clone = Clone.objects.get()
    wait_until(lambda: Clone.objects.get(pk=clone.pk).is_finished, timeout=60)
    clone.refresh_from_db()
    assert clone.status == Clone.Status.READY, clone.error_message
    assert keys(bucket) == sorted([clone.original.name, clone.sample.name, clone.preview_audio.name])
    assert local_media_files() == []

    # The web process serves the worker's preview from the bucket, Range requests included.
    stored = bucket.Object(clone.preview_audio.name).get()["Body"].read()
    assert 0.5 < wav_duration(stored) < 8.0
    ranged = client.get(clone.preview_url, headers={"range": "bytes=100-1099"})
    assert ranged.status_code == 206 and ranged["Content-Range"] == f"bytes 100-1099/{len(stored)}"
    with bucket_requests(clone.preview_audio.storage) as sent:
        assert b"".join(ranged.streaming_content) == stored[100:1100]
    # Only the range travels from the bucket, not the whole object (as django-storages' S3 file would).
    assert sent == [("GetObject", "bytes=100-1099")]

    response = client.post(
        reverse("clones:speak_with_clone", args=[clone.uuid]), {"text": "Stored in S3.", "speed": 1, "volume": 1}
    )
    assert response.status_code == 302
    utterance = wait_until(lambda: Utterance.objects.filter(status__in=["ready", "failed"]).first(), timeout=60)
    assert utterance.status == "ready"
    assert utterance.audio.name in keys(bucket)
    spoken = b"".join(client.get(utterance.get_audio_url()).streaming_content)
    assert spoken == bucket.Object(utterance.audio.name).get()["Body"].read()

    client.post(reverse("clones:delete", args=[clone.uuid]))
    wait_until(lambda: not Clone.objects.filter(pk=clone.pk).exists(), timeout=60)
    assert keys(bucket) == [] and sandbox.voices() == []
    assert local_media_files() == []


def test_health_reports_an_unreachable_bucket(client, bucket, settings, monkeypatch):
    assert client.get("/health/").json()["checks"]["storage"]["ok"] is True
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # one refused connection is enough to know
    storage = settings.STORAGES["default"]
    unreachable = {**storage, "OPTIONS": {**storage["OPTIONS"], "endpoint_url": "http://127.0.0.1:9"}}
    settings.STORAGES = {**settings.STORAGES, "default": unreachable}
    response = client.get("/health/")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["storage"] == {"ok": False, "error": "EndpointConnectionError", "ms": checks["storage"]["ms"]}
    assert checks["database"]["ok"] and checks["broker"]["ok"]
    assert "127.0.0.1" not in response.text
