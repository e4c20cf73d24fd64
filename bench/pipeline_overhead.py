"""Benchmark: what the app adds to a clone, over the three provider calls it has to make anyway.

With the sandbox at zero added latency (or --latency), each round times one clone through the app (the create
form POSTed to gunicorn, a Celery worker on Redis taking it through upload, clone and preview,
PostgreSQL holding the state) and the same three provider calls made directly by this script with
plain `requests`, in turn, and reports medians, their ratio and the absolute overhead.

A third variant, the floor, times the least a queued clone can do on the same stack: a view that
stores the upload and writes the row, a task that makes the three calls and saves once (bench/urls.py,
bench/tasks.py). It says how much of the overhead is the queue itself. See bench/README.md.

    .venv/bin/python bench/pipeline_overhead.py [--rounds 20] [--latency 0] [--database-url ...] [--broker-url ...]
"""

import argparse
import itertools
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


def submit_bare(web, session, csrf, sample, n):
    """The floor: the same upload to bench/bare-clone/; the time until its task has saved the clone ready."""
    from clones.models import Clone

    started = time.time()
    response = session.post(
        f"{web}/bench/bare-clone/",
        data={"csrfmiddlewaretoken": csrf, "name": f"Floor {n}", "preview_text": PREVIEW_TEXT},
        files={"sample": ("sample.wav", sample, "audio/wav")},
        timeout=30,
    )
    assert response.status_code == 201, response.text[:2000]
    clone = stack.wait_until(
        lambda: Clone.objects.filter(uuid=response.text, status=Clone.Status.READY).first(), 60, "the floor's clone"
    )
    return clone.finished_at.timestamp() - started, (
        clone.created_at.timestamp() - started,
        clone.started_at.timestamp() - clone.created_at.timestamp(),
        clone.finished_at.timestamp() - clone.started_at.timestamp(),
    )


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
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every call")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and logs, and say where")
    stack.add_arguments(parser)
    args = parser.parse_args()

    data_dir = stack.data_dir("voiceclone-bench-overhead-")
    env = stack.app_env(args, data_dir)
    stack.setup_django(env)
    stack.empty_broker(args.broker_url)

    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from clones.intake import prepare_sample
    from clones.models import Clone
    from tests.samples import wav_bytes

    Clone.objects.all().delete()
    User.objects.filter(username="bench-overhead").delete()
    user = User.objects.create_user("bench-overhead")
    login = Client()
    login.force_login(user)

    processes = []
    try:
        processes.append(stack.start_sandbox(args, data_dir, latency=args.latency))
        processes.append(stack.start_gunicorn(args, env, data_dir, workers=2))
        processes.append(stack.start_worker(env, data_dir, concurrency=1, pool=args.worker_pool))
        web = f"http://127.0.0.1:{args.web_port}"
        api = env["BIGMODEL_BASE_URL"]
        session = requests.Session()
        session.cookies.set("sessionid", login.cookies["sessionid"].value)
        assert session.get(f"{web}/clones/new/", timeout=10).status_code == 200
        csrf = session.cookies["csrftoken"]
        times = {"app": [], "direct": [], "floor": []}
        phases = {"app": [], "floor": []}
        orders = list(itertools.permutations(times))
        for n in range(args.warmup + args.rounds):
            # A new recording each time, as in real use (the sandbox analyses a sample's pitch once).
            samples = {name: wav_bytes(5, f0=100 + 3 * n + i) for i, name in enumerate(times)}
            # The app sends the provider its normalized WAV of the recording; the direct script and the
            # floor send the same kind of file, made here beforehand, so that all three make the same calls.
            for name in ("direct", "floor"):
                samples[name] = prepare_sample(SimpleUploadedFile("sample.wav", samples[name])).wav
            # Take turns at going first, so no variant always runs on a machine another just warmed.
            for name in orders[n % len(orders)]:
                if name == "direct":
                    result = direct_calls(api, samples[name])
                else:
                    submit = submit_through_app if name == "app" else submit_bare
                    result, phase = submit(web, session, csrf, samples[name], n)
                    if n >= args.warmup:
                        phases[name].append(phase)
                if n >= args.warmup:
                    times[name].append(result)
    finally:
        for process in reversed(processes):
            process.stop()

    a, d, f = (stack.median(times[name]) for name in ("app", "direct", "floor"))
    print(f"{args.rounds} rounds after {args.warmup} warm-up, sandbox latency {args.latency:g} s a call, "
          f"one worker ({args.worker_pool}, concurrency 1), Redis broker, PostgreSQL")  # fmt: skip
    labels = {"direct": "direct, three calls", "app": "through the app", "floor": "the floor"}
    for name, values in times.items():
        print(f"{labels[name] + ':':21} median {stack.median(values) * 1000:.1f} ms "
              f"({', '.join(f'{x * 1000:.0f}' for x in values)})")  # fmt: skip
        if name in phases:
            web_ms, queue_ms, steps_ms = (stack.median([p[i] for p in phases[name]]) * 1000 for i in range(3))
            print(f"  of which: web request {web_ms:.1f} ms, to the worker {queue_ms:.1f} ms, "
                  f"in the worker {steps_ms:.1f} ms")  # fmt: skip
    print(f"ratio app / direct: {a / d:.2f} (goal <= 1.2); overhead {1000 * (a - d):.1f} ms (goal < 100 ms)")
    print(f"ratio floor / direct: {f / d:.2f}; the floor's overhead {1000 * (f - d):.1f} ms")
    if args.keep:
        print(f"logs and data kept in {data_dir}")
    else:
        stack.cleanup(data_dir)


if __name__ == "__main__":
    main()
