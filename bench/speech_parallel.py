"""Benchmark: speaking a 2,000-character text, parts in parallel versus one part at a time.

Every sandbox call takes a fixed time (as a remote provider's would), both variants run in
the same process, alternately, and the ratio of their medians is reported. See bench/README.md.

    .venv/bin/python bench/speech_parallel.py [--latency 0.5] [--rounds 5]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["VOICECLONE_TEST_DATA_DIR"] = tempfile.mkdtemp(prefix="voiceclone-bench-")
os.environ["DJANGO_SETTINGS_MODULE"] = "voiceclone_site.settings_test"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402

from clones import bigmodel, pipeline  # noqa: E402
from clones.models import Utterance  # noqa: E402
from clones.text import split_text  # noqa: E402
from sandbox.testing import running_sandbox  # noqa: E402

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank. "
TEXT = (SENTENCE * 31)[:2000]


def timed_run(client, owner, parallel):
    settings.SPEECH_PARALLEL_PARTS = parallel
    utterance = Utterance.objects.create(owner=owner, system_voice="tongtong", text=TEXT)
    started = time.perf_counter()
    pipeline.synthesize(utterance, client)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.5, help="seconds each sandbox call takes")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    owner = User.objects.create_user("bench")
    parts = len(split_text(TEXT, bigmodel.SPEECH_MAX_CHARS))
    with running_sandbox(Path(settings.DATA_DIR) / "sandbox", latency=args.latency) as sandbox:
        with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
            timed_run(client, owner, args.parallel)  # warm up eSpeak and the connection pool
            serial, parallel = [], []
            for _ in range(args.rounds):
                serial.append(timed_run(client, owner, 1))
                parallel.append(timed_run(client, owner, args.parallel))
    s, p = statistics.median(serial), statistics.median(parallel)
    print(f"text: {len(TEXT)} characters in {parts} parts; sandbox latency {args.latency:.2f} s per call")
    print(f"one part at a time: median {s:.3f} s over {args.rounds} rounds ({', '.join(f'{x:.3f}' for x in serial)})")
    print(f"{args.parallel} in parallel:      median {p:.3f} s ({', '.join(f'{x:.3f}' for x in parallel)})")
    print(f"ratio serial / parallel: {s / p:.2f}x")


if __name__ == "__main__":
    main()
