"""Benchmark: every take heard back and checked, on the studio's 10,000-character script.

1. Checking off against checking on, side by side in one run (alternating, `--rounds` pairs): the wall
   time of "generate all" from queueing until every take is ready (off), or ready and checked with any
   retry settled (on). Every sandbox call takes `--latency` (its own work included), speech and
   recognition alike, and allows `--cap` calls in flight per model, as the provider does; the app's
   PROVIDER_MAX_CONCURRENCY is the same cap. Goal: on / off <= 1.25x (checks run beside the synthesis of
   other lines).
2. The sandbox mis-speaks 10% of first takes at random (seeded; a retry of a text is spoken right): the
   share of final chosen takes that say their text (goal 100% after at most 2 retries), and the provider
   calls spent beyond the lines' one take each.

Runs a Celery worker on Redis and PostgreSQL, as production does. See bench/README.md.

    createdb -h 127.0.0.1 -U postgres checked
    .venv/bin/python bench/checks_generate.py [--latency 0.5] [--cap 8] [--chars 10000] [--rounds 2]
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from num2words import num2words  # noqa: E402

from bench import stack  # noqa: E402
from bench.studio_generate import script  # noqa: E402


def busy_seconds(process):
    """CPU seconds a child process (all its threads) has used so far."""
    times = psutil.Process(process.popen.pid).cpu_times()
    return times.user + times.system


def wait(query, timeout, what):
    deadline = time.monotonic() + timeout
    while query():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.5, help="seconds each sandbox call takes")
    parser.add_argument("--cap", type=int, default=8, help="calls in flight per model (sandbox and app)")
    parser.add_argument("--threads", type=int, default=24, help="task threads of the worker")
    parser.add_argument("--chars", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs measured")
    parser.add_argument("--mispeak", type=float, default=0.1, help="share of first takes mis-spoken")
    parser.add_argument("--timeout", type=float, default=600)
    stack.add_arguments(parser)
    parser.set_defaults(
        database_url=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/checked"),
        broker_url=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"),
        sandbox_port=8067,
    )
    args = parser.parse_args()

    data_dir = stack.data_dir("voiceclone-bench-checks-")
    env = stack.app_env(args, data_dir, PROVIDER_MAX_CONCURRENCY=args.cap, QUOTA_SPEECH_CHARS_PER_DAY=10**9,
                        QUOTA_CHECK_SECONDS_PER_DAY=10**9, LOG_LEVEL="INFO")  # fmt: skip
    stack.setup_django(env)
    stack.empty_broker(args.broker_url)

    from django.conf import settings
    from django.contrib.auth.models import User

    from checks.compare import compare
    from clones.models import ProviderSlot
    from sandbox.testing import SandboxControl
    from studio import tasks
    from studio.forms import ProjectForm
    from studio.models import Take
    from studio.script import spoken_text

    ProviderSlot.objects.all().delete()
    User.objects.filter(username="bench-checks").delete()
    user = User.objects.create_user("bench-checks")
    # The studio benchmark's script, each paragraph named ("Part twelve."): its paragraphs repeat, and the
    # sandbox mis-speaks only the first take of a text, so lines must differ for a tenth to be spoiled.
    paragraphs = script(args.chars).split("\n\n")
    text = "\n\n".join(f"Part {num2words(n + 1)}. {p}" for n, p in enumerate(paragraphs))
    sandbox = SandboxControl(f"http://127.0.0.1:{args.sandbox_port}")

    def new_project(title, body, check):
        form = ProjectForm({"title": title, "script": body, "voice": "tongtong", "speed": 1, "volume": 1,
                            "format": "plain"}, owner=user)  # fmt: skip
        assert form.is_valid(), form.errors
        project = form.save()
        project.check_speech = check
        project.save(update_fields=["check_speech"])
        return project

    def run(project, faults=()):
        """Seconds from queueing to every take made (and checked), with the calls the sandbox saw.

        The sandbox forgets what it said before each run: its stand-in recognition compares what it
        hears with everything it remembers saying, which would grow from run to run."""
        sandbox.reset()
        sandbox.set_faults(list(faults))
        before = len(sandbox.calls())
        cpu = {name: busy_seconds(process) for name, process in processes.items()}
        takes = Take.objects.filter(line__project=project)
        busy = takes.filter(status__in=Take.PENDING) | takes.filter(check_status__in=Take.CHECK_PENDING)
        started = time.time()
        tasks.queue_generation(project)
        wait(busy.exists, args.timeout, "generate all")
        elapsed = time.time() - started
        calls = sandbox.calls()[before:]
        speech = sum(1 for c in calls if c["route"] == "audio.speech")
        heard = sum(1 for c in calls if c["route"] == "audio.transcriptions")
        refused = sum(1 for c in calls if c["status"] == 429)
        used = {name: busy_seconds(process) - cpu[name] for name, process in processes.items()}
        return elapsed, speech, heard, refused, used

    processes = {}
    try:
        processes["sandbox"] = stack.start_sandbox(args, data_dir, latency=args.latency, max_concurrency=args.cap)
        worker = processes["worker"] = stack.start_worker(env, data_dir, concurrency=args.threads)
        run(new_project("Warm-up", "Hello there.", True))  # imports and connections, paid here

        # -- 1. checking off and on, side by side --------------------------------------------------
        pairs = []
        for n in range(args.rounds):
            off = run(new_project(f"Off {n}", text, False))
            on = run(new_project(f"On {n}", text, True))
            pairs.append((off, on))

        # -- 2. a tenth of first takes mis-spoken ------------------------------------------------
        # The reset before the run forgets which texts were spoken: every line's next take is a first take.
        faults = [{"route": "audio.speech", "action": "mispeak", "mispeak": kind, "first_takes_only": True,
                   "probability": args.mispeak / 3, "times": None, "seed": 7 + i}
                  for i, kind in enumerate(("drop", "repeat", "swap"))]  # fmt: skip
        project = new_project("Mis-spoken", text, True)
        elapsed, speech, heard, refused, _ = run(project, faults)
        lines = list(project.ordered_lines())
        takes = Take.objects.filter(line__project=project)
        first_differs = takes.filter(auto_retry=0, check_status="differs").count()
        retries = takes.filter(auto_retry__gt=0).count()
        # "Says the text": what the sandbox heard in the chosen take is the line's text, word for word.
        right = sum(1 for line in lines if compare(spoken_text(line.text), line.chosen_take.transcript).error_rate == 0)
        most = max((t.auto_retry for t in takes), default=0)
    finally:
        for process in reversed(processes.values()):
            process.stop()

    print(f"script: {len(text):,} characters in {len(lines)} lines; sandbox latency {args.latency:.2f} s per call, "
          f"cap {args.cap} per model (sandbox and app), 1 worker x {args.threads} threads, Redis, PostgreSQL; "
          f"threshold {settings.CHECK_MAX_ERROR_RATE}, retries {settings.CHECK_MAX_RETRIES}")  # fmt: skip
    for n, ((t_off, s_off, h_off, r_off, c_off), (t_on, s_on, h_on, r_on, c_on)) in enumerate(pairs, 1):
        print(f"round {n}: checking off {t_off:.2f} s ({s_off} speech calls, {h_off} recognitions, {r_off} refused); "
              f"on {t_on:.2f} s ({s_on} speech, {h_on} recognitions, {r_on} refused) -> on/off {t_on / t_off:.2f}x "
              f"(goal <= 1.25x)")  # fmt: skip
        print(f"  CPU seconds off / on: sandbox {c_off['sandbox']:.1f} / {c_on['sandbox']:.1f}, worker "
              f"{c_off['worker']:.1f} / {c_on['worker']:.1f}; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores")  # fmt: skip
    print(f"mis-speaking {args.mispeak:.0%} of first takes: {first_differs} first takes differed, {retries} retries "
          f"(at most {most} for a line); chosen takes that say their text: {right}/{len(lines)} "
          f"({right / len(lines):.1%}); {elapsed:.2f} s")  # fmt: skip
    print(
        f"  provider calls: {speech} speech + {heard} recognitions = {speech + heard} for {len(lines)} lines; "
        f"extra beyond one take each: {speech - len(lines)} speech + {heard} recognitions; {refused} refused"
    )
    log = worker.log_path.read_text()
    for route in ("audio.speech", "audio.transcriptions"):
        ms = [int(m) for m in re.findall(rf"bigmodel route={re.escape(route)} status=200 code=\S+ ms=(\d+)", log)]
        print(f"  {route} as the worker timed it: median {stack.median(ms):.0f} ms over {len(ms)} calls")
    stack.cleanup(data_dir)


if __name__ == "__main__":
    main()
