"""Benchmark: many clones through a provider that allows a few calls at once, and answers slowly.

Every sandbox call takes a fixed time (its own work included), and the sandbox refuses calls past its
concurrency limit (429 + 1302, as BigModel does); the app's PROVIDER_MAX_CONCURRENCY is set to the same
cap. N clones are queued at once to Celery workers on Redis and PostgreSQL. The cap allows at most cap /
latency calls a second, and a clone needs three calls, so N clones cannot finish sooner than 3 N latency
/ cap: the script reports the achieved rate as a share of that, plus lost and duplicated clones. See
bench/README.md.

    .venv/bin/python bench/pipeline_throughput.py [--clones 200] [--latency 0.5] [--cap 8]
"""

import argparse
import collections
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from bench import stack  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clones", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds each sandbox call takes")
    parser.add_argument("--cap", type=int, default=8, help="calls in flight the provider allows (and the app uses)")
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes")
    parser.add_argument("--threads", type=int, default=16, help="task threads per worker")
    parser.add_argument("--preview-text", default="Hello.")
    parser.add_argument("--timeout", type=float, default=600)
    stack.add_arguments(parser)
    args = parser.parse_args()

    data_dir = stack.data_dir("voiceclone-bench-throughput-")
    env = stack.app_env(args, data_dir, PROVIDER_MAX_CONCURRENCY=args.cap)
    stack.setup_django(env)
    stack.empty_broker(args.broker_url)

    from django.contrib.auth.models import User
    from django.core.files.base import ContentFile
    from django.db import transaction

    from clones.models import Clone, ProviderSlot
    from clones.tasks import enqueue_clone
    from tests.samples import wav_bytes

    Clone.objects.all().delete()
    ProviderSlot.objects.all().delete()  # the cap may differ from the last run's
    User.objects.filter(username="bench-throughput").delete()
    user = User.objects.create_user("bench-throughput")
    sample = ContentFile(wav_bytes(5))
    clones = []
    for n in range(args.clones):
        clone = Clone(owner=user, name=f"Throughput {n}", provider_model="glm-tts-clone", sample_format="wav",
                      sample_duration=5.0, preview_text=args.preview_text)  # fmt: skip
        clone.sample.save("s.wav", sample, save=False)
        clone.save()
        clones.append(clone)

    processes = []
    try:
        processes.append(stack.start_sandbox(args, data_dir, latency=args.latency, max_concurrency=args.cap))
        for n in range(args.workers):
            processes.append(stack.start_worker(env, data_dir, concurrency=args.threads, name=f"worker{n}"))
        with transaction.atomic():
            for clone in clones:
                enqueue_clone(clone)  # sent when the transaction commits, as the create view does
            started = time.time()
        unfinished = Clone.objects.exclude(status__in=Clone.FINISHED)
        deadline = time.monotonic() + args.timeout
        while unfinished.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        sandbox = f"http://127.0.0.1:{args.sandbox_port}/_sandbox"
        calls = requests.get(f"{sandbox}/calls", timeout=30).json()["calls"]
        voices = requests.get(f"{sandbox}/voices", timeout=30).json()["voices"]
    finally:
        for process in reversed(processes):
            process.stop()

    ready = Clone.objects.filter(status=Clone.Status.READY)
    last = max(clone.finished_at.timestamp() for clone in ready) if ready else time.time()
    elapsed = last - started
    ideal = 3 * args.clones * args.latency / args.cap
    statuses = collections.Counter(call["status"] for call in calls)
    by_name = collections.Counter(voice["voice_name"] for voice in voices)
    ours = set(Clone.objects.values_list("voice_name", flat=True))
    print(f"{args.clones} clones, sandbox latency {args.latency:.2f} s per call, cap {args.cap} calls in flight "
          f"(sandbox and app), {args.workers} worker(s) x {args.threads} threads, Redis, PostgreSQL")  # fmt: skip
    print(f"provider calls: {len(calls)} ({dict(sorted(statuses.items(), key=str))})")
    print(f"elapsed: {elapsed:.1f} s; the cap's theoretical minimum: {ideal:.1f} s")
    print(f"rate: {args.clones / elapsed:.2f} clones/s of {args.clones / ideal:.2f} possible = "
          f"{ideal / elapsed:.1%} of the cap's theoretical rate (goal >= 90%)")  # fmt: skip
    print(f"ready: {ready.count()}, failed: {Clone.objects.filter(status=Clone.Status.FAILED).count()}, "
          f"lost (unfinished): {unfinished.count()}")  # fmt: skip
    print(f"duplicated (a voice name held twice at the provider): {sum(1 for n in by_name.values() if n > 1)}; "
          f"provider voices no clone owns: {sum(1 for v in voices if v['voice_name'] not in ours)}")  # fmt: skip
    # How long each call held its slot, as the workers logged it: where the time between calls went.
    held = collections.defaultdict(list)
    for process in processes[1:]:
        for route, ms in re.findall(r"bigmodel route=(\S+) status=\S+ code=\S+ ms=(\d+)", process.log_path.read_text()):
            held[route].append(int(ms))
    total = sum(sum(values) for values in held.values()) / 1000
    print("provider calls as the workers timed them (median ms): "
          + ", ".join(f"{route} {stack.median(values):.0f}" for route, values in held.items())
          + f"; slots held {total / (args.cap * elapsed):.1%} of the time")  # fmt: skip
    stack.cleanup(data_dir)


if __name__ == "__main__":
    main()
