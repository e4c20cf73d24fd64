"""Benchmark: what the app adds to a clone, over the three provider calls it has to make anyway.

With the sandbox at zero added latency, each round times one clone through the app (the create
form POSTed to gunicorn, a Celery worker on Redis taking it through upload, clone and preview,
PostgreSQL holding the state) and the same three provider calls made directly by this script with
plain `requests`, alternately, and reports medians, their ratio and the absolute overhead.
See bench/README.md.

    .venv/bin/python bench/pipeline_overhead.py [--rounds 20] [--database-url ...] [--broker-url ...]
"""

import argparse
import re
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from bench import stack  # noqa: E402

PREVIEW_TEXT = "Hello, this is my cloned voice."


def submit_through_app(web, session, csrf, sample, n):
    """POST the create form as a browser would; the time until the worker has made the clone ready."""
    from clones.models import Clone

    started = time.time()
    response = session.post(
        f"{web}/clones/new/",
        data={
            "csrfmiddlewaretoken": csrf,
            "name": f"Bench {n}",
            "preview_text": PREVIEW_TEXT,
            "transcript": "",
            "language": "en",
            "visibility": "private",
            "consent": "on",
            "tags": "",
        },  # fmt: skip
        files={"sample": ("sample.wav", sample, "audio/wav")},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:2000]
    clone_uuid = re.search(r"/clones/([0-9a-f-]{36})/", response.headers["Location"]).group(1)
    clone = stack.wait_until(
        lambda: Clone.objects.filter(uuid=clone_uuid, status__in=Clone.FINISHED).first(), 60, "the clone"
    )
    assert clone.status == Clone.Status.READY, clone.error_message
    # finished_at is taken by the worker just before its last save marks the clone ready.
    total = clone.finished_at.timestamp() - started
    phases = (
        clone.created_at.timestamp() - started,  # the web request, up to the row being written
        clone.started_at.timestamp() - clone.created_at.timestamp(),  # commit, broker, worker pick-up
        clone.finished_at.timestamp() - clone.started_at.timestamp(),  # the three steps in the worker
    )
    return total, phases


def direct_calls(api, sample):
    """The same three calls, made by a plain script: upload the sample, clone, fetch the preview."""
    headers = {"Authorization": "Bearer sandbox"}
    started = time.perf_counter()
    with requests.Session() as session:
        session.headers.update(headers)
        uploaded = session.post(f"{api}/files", files={"file": ("s.wav", sample)},
                                data={"purpose": "voice-clone-input"}, timeout=30)  # fmt: skip
        uploaded.raise_for_status()
        cloned = session.post(
            f"{api}/voice/clone",
            json={
                "model": "glm-tts-clone",
                "voice_name": f"direct_{uuid.uuid4().hex[:20]}",
                "input": PREVIEW_TEXT,
                "file_id": uploaded.json()["id"],
                "request_id": uuid.uuid4().hex,
            },  # fmt: skip
            timeout=30,
        )
        cloned.raise_for_status()
        preview = session.get(f"{api}/files/{cloned.json()['file_id']}/content", timeout=30)
        preview.raise_for_status()
        assert preview.content[:4] == b"RIFF"
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--worker-pool", default="threads")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and logs, and say where")
    stack.add_arguments(parser)
    args = parser.parse_args()

    data_dir = stack.data_dir("voiceclone-bench-overhead-")
    env = stack.app_env(args, data_dir)
    stack.setup_django(env)
    stack.empty_broker(args.broker_url)

    from django.contrib.auth.models import User
    from django.test import Client

    from clones.models import Clone
    from tests.samples import wav_bytes

    Clone.objects.all().delete()
    User.objects.filter(username="bench-overhead").delete()
    user = User.objects.create_user("bench-overhead")
    login = Client()
    login.force_login(user)

    processes = []
    try:
        processes.append(stack.start_sandbox(args, data_dir, latency=0))
        processes.append(stack.start_gunicorn(args, env, data_dir, workers=2))
        processes.append(stack.start_worker(env, data_dir, concurrency=1, pool=args.worker_pool))
        web = f"http://127.0.0.1:{args.web_port}"
        api = env["BIGMODEL_BASE_URL"]
        session = requests.Session()
        session.cookies.set("sessionid", login.cookies["sessionid"].value)
        assert session.get(f"{web}/clones/new/", timeout=10).status_code == 200
        csrf = session.cookies["csrftoken"]
        app, direct, phases = [], [], []
        for n in range(args.warmup + args.rounds):
            # A new recording each time, as in real use (the sandbox analyses a sample's pitch once).
            sample, other = wav_bytes(5, f0=100 + 2 * n), wav_bytes(5, f0=101 + 2 * n)
            # Alternate which goes first, so neither always runs on a machine the other just warmed.
            if n % 2:
                d = direct_calls(api, other)
                a, p = submit_through_app(web, session, csrf, sample, n)
            else:
                a, p = submit_through_app(web, session, csrf, sample, n)
                d = direct_calls(api, other)
            if n >= args.warmup:
                app.append(a)
                direct.append(d)
                phases.append(p)
    finally:
        for process in reversed(processes):
            process.stop()

    a, d = stack.median(app), stack.median(direct)
    web_ms, queue_ms, steps_ms = (stack.median([p[i] for p in phases]) * 1000 for i in range(3))
    print(f"{args.rounds} rounds after {args.warmup} warm-up, sandbox at zero added latency, "
          f"one worker ({args.worker_pool}, concurrency 1), Redis broker, PostgreSQL")  # fmt: skip
    print(f"direct, three calls:  median {d * 1000:.1f} ms ({', '.join(f'{x * 1000:.0f}' for x in direct)})")
    print(f"through the app:      median {a * 1000:.1f} ms ({', '.join(f'{x * 1000:.0f}' for x in app)})")
    print(f"  of which: web request {web_ms:.1f} ms, to the worker {queue_ms:.1f} ms, steps {steps_ms:.1f} ms")
    print(f"ratio app / direct: {a / d:.2f} (goal <= 1.2); overhead {1000 * (a - d):.1f} ms (goal < 100 ms)")
    if args.keep:
        print(f"logs and data kept in {data_dir}")
    else:
        stack.cleanup(data_dir)


if __name__ == "__main__":
    main()
