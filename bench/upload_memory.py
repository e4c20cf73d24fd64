"""Benchmark: memory of the web process while samples upload, and the cost of preparing a sample.

1. Starts gunicorn (one worker, one thread) on loopback with a throwaway DATA_DIR, warms it up with
   one small upload, then posts large files while a thread samples the worker's RSS every 2 ms:
   a 10 MB WAV (52 s, 48 kHz stereo) and a 10 MB MP3 (10 min 40 s) to /clones/analyze/ and to
   /clones/new/, and over-limit files (15 MB, drained; 60 MB, connection reset). Reports peak - idle.
2. Decodes + normalizes a 30 s 48 kHz stereo AAC file with `prepare_sample` and with the `ffmpeg`
   command line doing the same conversion (mono, 24 kHz, 16-bit WAV; once plain, once with its
   loudnorm filter), alternately, and reports medians and ratios. ffmpeg is for the benchmark only
   (`apt-get install -y ffmpeg`); the app never runs it.

    .venv/bin/python bench/upload_memory.py [--port 8010] [--rounds 7]
"""

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA_DIR = Path(tempfile.mkdtemp(prefix="voiceclone-bench-upload-"))
ENV = {
    **os.environ,
    "DATA_DIR": str(DATA_DIR),
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(40),
    "DATABASE_URL": f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
    "CELERY_BROKER_URL": "filesystem://",
}
os.environ.update({k: ENV[k] for k in ("DATA_DIR", "DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL")})
os.environ["DJANGO_SETTINGS_MODULE"] = "voiceclone_site.settings"

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from clones.intake import prepare_sample  # noqa: E402
from tests.audio_corpus import encode, speech_like, wav  # noqa: E402

MB = 1024 * 1024


class RssSampler:
    def __init__(self, pid):
        self.process = psutil.Process(pid)
        self.peak = 0
        self.running = False

    def rss(self):
        return self.process.memory_info().rss

    def __enter__(self):
        self.peak, self.running = self.rss(), True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def start_web(port):
    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)  # pages need the static manifest
    user = User.objects.create_user("bench", password="bench-password-123")
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    log = open(DATA_DIR / "gunicorn.log", "w")
    env = {**ENV, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "1"}
    master = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "voiceclone_site.wsgi", "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/health/", timeout=10)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or master.poll() is not None:
                    raise RuntimeError((DATA_DIR / "gunicorn.log").read_text()) from None
                time.sleep(0.2)
        time.sleep(1)  # let the health check's connections settle before measuring
        worker = psutil.Process(master.pid).children()[0]
    except BaseException:
        master.terminate()
        master.wait(timeout=40)
        raise
    http = requests.Session()
    token = secrets.token_hex(16)  # 32 characters: a valid CSRF secret, sent as cookie and header
    http.cookies.update({"sessionid": session, "csrftoken": token})
    http.headers["X-CSRFToken"] = token
    return master, worker.pid, http, base


def post(http, url, data, **fields):
    try:
        response = http.post(
            url, files={"sample": ("upload.bin", data)}, data=fields, timeout=120, allow_redirects=False
        )
        if response.status_code == 302:
            return "302: clone created"
        if "application/json" in response.headers.get("Content-Type", ""):
            return f"{response.status_code}: {response.text[:60]}…"
        errors = re.findall(r'class="errors"[^>]*>(.*?)</div>', response.text, re.S)
        return f"{response.status_code}: " + " ".join(" ".join(re.sub(r"<[^>]+>", " ", e).split()) for e in errors)
    except requests.ConnectionError as exc:
        return f"connection closed ({type(exc).__name__})"


def memory(port):
    print("generating files ...", flush=True)
    speech, rate = speech_like(52, rate=48000)
    big_wav = wav(speech, rate, channels=2)
    long_speech, _ = speech_like(640, rate=24000)
    big_mp3 = encode(long_speech, 24000, container="mp3", codec="libmp3lame", bit_rate=128000)
    assert 9.5 * MB < len(big_mp3) < 10 * MB and 9.5 * MB < len(big_wav) < 10 * MB, (len(big_mp3), len(big_wav))
    small = wav(*speech_like(5, rate=16000))
    over = np.random.default_rng(0).bytes(15 * MB)
    huge = np.random.default_rng(1).bytes(60 * MB)
    master, pid, http, base = start_web(port)
    rows = []
    try:
        sampler = RssSampler(pid)
        cold = sampler.rss()
        form = {"name": "Bench", "preview_text": "Hello.", "language": "en", "visibility": "private", "consent": "on"}
        post(http, f"{base}/clones/analyze/", small)  # warm-up: first imports and allocations
        print("warm-up:", post(http, f"{base}/clones/new/", small, **form))
        cases = [
            ("10 MB WAV (52 s, 48 kHz stereo)", "/clones/analyze/", big_wav, {}),
            ("10 MB WAV (52 s, 48 kHz stereo)", "/clones/new/", big_wav, form),
            ("10 MB MP3 (10 min 40 s)", "/clones/analyze/", big_mp3, {}),
            ("10 MB MP3 (10 min 40 s)", "/clones/new/", big_mp3, form),
            ("15 MB, over the limit", "/clones/new/", over, form),
            ("60 MB, over the limit", "/clones/new/", huge, form),
        ]
        for label, path, data, fields in cases:
            time.sleep(0.5)
            idle = sampler.rss()
            with sampler:
                started = time.monotonic()
                outcome = post(http, base + path, data, **fields)
                seconds = time.monotonic() - started
            rows.append((label, path, idle, sampler.peak, seconds, outcome))
    finally:
        master.terminate()
        master.wait(timeout=40)
    if any(row[-1].startswith("500") for row in rows):
        print((DATA_DIR / "gunicorn.log").read_text()[-5000:])
    print(f"\nworker RSS right after start: {cold / MB:.1f} MB; after warm-up: {rows[0][2] / MB:.1f} MB\n")
    print("| upload | endpoint | idle RSS | peak RSS | peak - idle | time | answer |")
    print("|---|---|---|---|---|---|---|")
    for label, path, idle, peak, seconds, outcome in rows:
        print(
            f"| {label} | `{path}` | {idle / MB:.1f} MB | {peak / MB:.1f} MB | **{(peak - idle) / MB:.1f} MB** | "
            f"{seconds:.2f} s | {outcome} |"
        )
    highest = max(peak for _, _, _, peak, _, _ in rows)
    above = (highest - rows[0][2]) / MB
    print(f"\nhighest RSS in the whole run: {highest / MB:.1f} MB, {above:.1f} MB above the idle RSS after warm-up")
    return max((peak - idle) / MB for _, _, idle, peak, _, _ in rows)


def decode_speed(rounds):
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        sys.exit("ffmpeg is needed for the comparison: apt-get install -y ffmpeg")
    speech, rate = speech_like(30, rate=48000)
    path = DATA_DIR / "speech.m4a"
    path.write_bytes(encode(speech, rate, container="ipod", codec="aac", channels=2, bit_rate=128000))
    out = DATA_DIR / "out.wav"

    def ours():
        with open(path, "rb") as handle:
            return len(prepare_sample(handle).wav)

    def command(*filters):
        base = [ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(path), "-ac", "1", "-ar", "24000"]
        subprocess.run([*base, *filters, "-c:a", "pcm_s16le", str(out)], check=True)

    variants = {
        "prepare_sample (PyAV + pyloudnorm)": ours,
        "ffmpeg CLI: mono 24 kHz WAV": lambda: command(),
        "ffmpeg CLI: the same + loudnorm": lambda: command("-af", "loudnorm=I=-20:TP=-1"),
    }
    times = {name: [] for name in variants}
    for fn in variants.values():
        fn()  # warm-up
    for _ in range(rounds):
        for name, fn in variants.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    reference = statistics.median(times["ffmpeg CLI: mono 24 kHz WAV"])
    print(f"\n30 s 48 kHz stereo AAC ({path.stat().st_size // 1024} KB), {rounds} alternating rounds:\n")
    print("| variant | median | ratio to the ffmpeg CLI | runs (s) |")
    print("|---|---|---|---|")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"| {name} | {median * 1000:.0f} ms | {median / reference:.2f} | {', '.join(f'{r:.3f}' for r in runs)} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", 8010)))
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    try:
        worst = memory(args.port)
        print(f"\nlargest peak - idle: {worst:.1f} MB (budget 20 MB): {'OK' if worst <= 20 else 'OVER BUDGET'}")
        decode_speed(args.rounds)
    finally:
        shutil.rmtree(DATA_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
