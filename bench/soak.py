"""Soak: many clones by many users against the sandbox with random faults. Not part of CI.

Reports completed, failed by reason, duplicates (voices the provider holds twice for one clone:
must be 0) and lost (clones that never finished, or voices no clone knows: must be 0).

    .venv/bin/python bench/soak.py --clones 500 --users 20 --fault-rate 0.05 --workers 2
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["VOICECLONE_TEST_DATA_DIR"] = tempfile.mkdtemp(prefix="voiceclone-soak-")
os.environ["DJANGO_SETTINGS_MODULE"] = "voiceclone_site.settings_test"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402

from clones import bigmodel  # noqa: E402
from clones.models import Clone  # noqa: E402
from clones.reconcile import reconcile  # noqa: E402
from clones.tasks import enqueue_clone, sweep_stuck_work  # noqa: E402
from sandbox.testing import running_sandbox  # noqa: E402
from tests.samples import wav_bytes  # noqa: E402
from voiceclone_site.celery import worker_command  # noqa: E402

FAULTS = [
    {"action": "error", "status": 429, "code": "1302"},
    {"action": "error", "status": 503},
    {"action": "drop"},
    {"action": "drop_after"},
    {"action": "malformed"},
    {"action": "delay", "latency": 3},  # past the workers' 2 s read timeout
    {"action": "error", "status": 400, "code": "1301"},
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clones", type=int, default=500)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    settings.STUCK_AFTER_SECONDS = 30
    settings.BIGMODEL_READ_TIMEOUT = 2  # as the workers have it: when a late voice can have landed
    # Each fault kind gets an equal share of the fault rate, on every route.
    share = args.fault_rate / len(FAULTS)
    rules = [
        {"route": "*", "times": None, "probability": share / (1 - i * share), **rule} for i, rule in enumerate(FAULTS)
    ]
    with running_sandbox(Path(settings.DATA_DIR) / "sandbox", faults=rules) as sandbox:
        database = settings.DATABASES["default"]["NAME"]
        env = {**os.environ, "VOICECLONE_TEST_BIGMODEL_URL": sandbox.base_url, "BIGMODEL_READ_TIMEOUT": "2",
               "CLONE_LEASE_SECONDS": "20", "DATABASE_URL": f"sqlite:///{database}"}  # fmt: skip
        workers = [
            subprocess.Popen(
                worker_command(concurrency=args.concurrency, loglevel="WARNING"),
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            for _ in range(args.workers)
        ]
        try:
            users = [User.objects.create_user(f"soak{n}") for n in range(args.users)]
            sample = ContentFile(wav_bytes(4))
            started = time.monotonic()
            for n in range(args.clones):
                clone = Clone(owner=users[n % args.users], name=f"Soak {n}", provider_model="glm-tts-clone",
                              preview_text="Soak test preview.", sample_format="wav", sample_duration=4.0)  # fmt: skip
                clone.sample.save("s.wav", sample, save=False)
                clone.save()
                enqueue_clone(clone)
            last_sweep = time.monotonic()

            def pending():
                # Unfinished work, or failed clones whose slow clone calls are not yet checked.
                unchecked = Clone.objects.filter(status="failed", clone_requested_at__isnull=False,
                                                 voice_id="", late_voice_checked_at__isnull=True)  # fmt: skip
                return Clone.objects.exclude(status__in=Clone.FINISHED).exists() or unchecked.exists()

            while pending():
                if time.monotonic() - started > args.timeout:
                    break
                if time.monotonic() - last_sweep > 10:
                    sweep_stuck_work()  # what Celery beat does in production
                    last_sweep = time.monotonic()
                time.sleep(1)
            elapsed = time.monotonic() - started
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait()
        voices = sandbox.voices()
        calls = sandbox.calls()
        with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
            sandbox.clear_faults()
            unknown = reconcile(client).unknown

    by_name = collections.Counter(v["voice_name"] for v in voices)
    ours = {c.voice_name: c for c in Clone.objects.all()}
    ready = Clone.objects.filter(status="ready")
    failed = collections.Counter(Clone.objects.filter(status="failed").values_list("error_code", flat=True))
    print(f"{args.clones} clones by {args.users} users, {args.workers} workers x {args.concurrency} threads, "
          f"fault rate {args.fault_rate:.0%} on every call ({len(calls)} provider calls, "
          f"{sum(1 for c in calls if c['status'] != 200)} faulted), {elapsed:.0f} s")  # fmt: skip
    print(f"completed (ready): {ready.count()}")
    print(f"failed: {sum(failed.values())} {dict(failed)}")
    print(f"duplicates (a voice name held twice at the provider): {sum(1 for n in by_name.values() if n > 1)}")
    unfinished = Clone.objects.exclude(status__in=Clone.FINISHED).count()
    owned_ids = {c.voice_id for c in ours.values() if c.voice_id}
    orphans = [v for v in voices if v["voice"] not in owned_ids]
    kept = [v for v in voices if v["voice"] in owned_ids and ours[v["voice_name"]].status != "ready"]
    print(f"lost: {unfinished} clones unfinished, {len(orphans)} provider voices no clone owns")
    print(f"voices of clones that failed after cloning (kept for a retry, deleted with the clone): {len(kept)}")
    mismatched = sum(1 for c in ready if not any(v["voice"] == c.voice_id for v in voices))
    print(f"ready clones whose voice the provider does not have: {mismatched}")
    print(f"voices reconcile_voices would list as unknown: {len(unknown)}")


if __name__ == "__main__":
    main()
