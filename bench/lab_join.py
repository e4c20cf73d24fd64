"""Benchmark: joining five 10 MB recordings into one sample, against the single-file intake.

Starts gunicorn (one worker, one thread) on loopback as bench/upload_memory.py does, warms it up, then
posts, alternately for several rounds, one 10 MB WAV to the single-file intake (`/clones/analyze/`)
and five different 10 MB WAVs (52 s, 48 kHz stereo each) to the lab's join (`/lab/assemble/`), while a
thread samples the worker's RSS every 2 ms. Reports peak - idle per request and median times.

    .venv/bin/python bench/lab_join.py [--port 8011] [--rounds 5]
"""

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.upload_memory import DATA_DIR, MB, RssSampler, start_web  # noqa: E402  (sets up Django)
from tests.audio_corpus import speech_like, wav  # noqa: E402


def post(http, url, files):
    started = time.monotonic()
    response = http.post(url, files=files, timeout=300, allow_redirects=False)
    seconds = time.monotonic() - started
    if response.status_code != 200:
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
    return seconds, response.json()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", 8011)))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print("generating files ...", flush=True)
    recordings = []
    for seed in range(5):
        speech, rate = speech_like(52, rate=48000, seed=seed)
        recordings.append(wav(speech, rate, channels=2))
    assert all(9.5 * MB < len(r) < 10 * MB for r in recordings), [len(r) for r in recordings]
    small = wav(*speech_like(5, rate=16000))
    master, pid, http, base = start_web(args.port)
    rows = {"single": [], "joined": []}
    try:
        sampler = RssSampler(pid)
        # Warm-up: the first sample loads numpy, PyAV's FFmpeg, scipy and pyloudnorm.
        post(http, f"{base}/clones/analyze/", {"sample": ("warm.wav", small)})
        post(http, f"{base}/lab/assemble/", [("recordings", ("warm.wav", small))] * 2)
        for _ in range(args.rounds):
            for kind in ("single", "joined"):
                if kind == "single":
                    url, files = f"{base}/clones/analyze/", {"sample": ("one.wav", recordings[0])}
                else:
                    url = f"{base}/lab/assemble/"
                    files = [("recordings", (f"take-{i}.wav", data)) for i, data in enumerate(recordings)]
                time.sleep(0.5)
                idle = sampler.rss()
                with sampler:
                    seconds, answer = post(http, url, files)
                rows[kind].append((idle, sampler.peak, seconds, answer))
    finally:
        master.terminate()
        master.wait(timeout=40)
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    joined = rows["joined"][-1][3]
    print(
        f"\njoined sample: {joined['duration']:.1f} s from {len({s['file'] for s in joined['segments']})} files, "
        f"{len(joined['segments'])} stretches, verdict {joined['report']['verdict']}\n"
    )
    print("| request | peak - idle (worst of rounds) | median time | runs (s) |")
    print("|---|---|---|---|")
    labels = {
        "single": "one 10 MB WAV, single-file intake (`/clones/analyze/`)",
        "joined": "five 10 MB WAVs joined (`/lab/assemble/`)",
    }
    medians = {}
    for kind, runs in rows.items():
        worst = max(peak - idle for idle, peak, _, _ in runs) / MB
        medians[kind] = statistics.median(seconds for _, _, seconds, _ in runs)
        times = ", ".join(f"{seconds:.2f}" for _, _, seconds, _ in runs)
        print(f"| {labels[kind]} | **{worst:.1f} MB** | {medians[kind]:.2f} s | {times} |")
    ratio = medians["joined"] / medians["single"]
    print(f"\njoined / single time: {ratio:.2f} (five files' intake plus the join and a second intake of the result)")
    worst = max(peak - idle for idle, peak, _, _ in rows["joined"]) / MB
    print(f"joining: largest peak - idle {worst:.1f} MB (goal under 40 MB): {'OK' if worst < 40 else 'OVER'}")


if __name__ == "__main__":
    main()
