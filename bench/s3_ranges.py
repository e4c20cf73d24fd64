"""Benchmark: audio Range requests on S3 storage, with and without fetching only the range.

moto's S3 server runs on loopback with a 1 MB preview and a 10 MB utterance in a bucket. Each round
sends the same Range requests (64 KB at random offsets, as a player seeking) through the app's
`clones.audio_responses.audio_response` twice in turn: once over django-storages' own `S3Storage`, whose file
object downloads the whole object before the first read, and once over `clones.storage.S3MediaStorage`,
which asks the bucket for the range. It reports the median time a request, the bytes fetched from
the bucket a request, and their ratios. See bench/README.md.

    .venv/bin/python bench/s3_ranges.py [--rounds 5] [--requests 20]
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

RANGE = 64 * 1024
SIZES = {"1 MB preview": 1024 * 1024, "10 MB utterance": 10 * 1024 * 1024}
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto(log_dir):
    port = free_port()
    log = open(Path(log_dir) / "moto.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(endpoint + "/moto-api/", timeout=2).ok:
                return process, endpoint
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto's S3 server did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20, help="Range requests per variant, object and round")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="voiceclone-bench-s3-")
    os.environ.update({**CREDENTIALS, "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings", "DATA_DIR": data_dir})
    import django

    django.setup()
    import boto3
    from django.db.models.fields.files import FieldFile, FileField
    from django.test import RequestFactory
    from storages.backends.s3 import S3Storage

    from clones.audio_responses import audio_response
    from clones.storage import S3MediaStorage

    moto, endpoint = start_moto(data_dir)
    try:
        bucket = boto3.resource("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
        for name, size in SIZES.items():
            bucket.put_object(Key=name, Body=os.urandom(size))
        options = {"bucket_name": "bench", "endpoint_url": endpoint, "default_acl": None}
        storages = {"django-storages' S3Storage": S3Storage(**options), "S3MediaStorage": S3MediaStorage(**options)}
        fetched = {label: 0 for label in storages}

        def count_bytes(label):
            def handler(http_response, **kwargs):
                fetched[label] += int(http_response.headers.get("content-length", 0))

            return handler

        for label, storage in storages.items():
            storage.connection.meta.client.meta.events.register("after-call.s3.GetObject", count_bytes(label))

        factory = RequestFactory()
        times = {(label, name): [] for label in storages for name in SIZES}
        per_request = {key: [] for key in times}
        for n in range(args.rounds):
            for name, size in SIZES.items():
                offsets = [random.randrange(0, size - RANGE) for _ in range(args.requests)]
                order = list(storages.items()) if n % 2 == 0 else list(reversed(storages.items()))
                for label, storage in order:
                    before = fetched[label]
                    started = time.perf_counter()
                    for start in offsets:
                        fieldfile = FieldFile(None, FileField(storage=storage), name)
                        request = factory.get("/", headers={"range": f"bytes={start}-{start + RANGE - 1}"})
                        response = audio_response(request, fieldfile, "audio/wav", public=False)
                        assert response.status_code == 206
                        assert len(b"".join(response.streaming_content)) == RANGE
                    times[label, name].append((time.perf_counter() - started) / args.requests)
                    per_request[label, name].append((fetched[label] - before) / args.requests)
    finally:
        moto.terminate()
        moto.wait(timeout=10)

    print(f"{args.rounds} rounds of {args.requests} requests for 64 KB at random offsets, moto's S3 server on loopback")
    whole, ranged = storages
    for name in SIZES:
        a, b = statistics.median(times[whole, name]), statistics.median(times[ranged, name])
        fa, fb = statistics.median(per_request[whole, name]), statistics.median(per_request[ranged, name])
        print(f"{name}: {whole}: {a * 1000:.1f} ms, {fa / 1024:.0f} KB fetched a request; "
              f"{ranged}: {b * 1000:.1f} ms, {fb / 1024:.0f} KB fetched; "
              f"{a / b:.1f}x faster, {fa / fb:.0f}x fewer bytes")  # fmt: skip


if __name__ == "__main__":
    main()
