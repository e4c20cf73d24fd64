"""Benchmark: a worker's peak memory while it speaks a 10,000-character text, before and after the on-disk join.

Each variant runs in a fresh process of its own (so each starts from the same idle memory), against
the sandbox in another process (its own memory is not counted), and reports the process's peak RSS
(VmHWM) minus its RSS once warmed up (Django set up, a short text spoken once):

- before: the parts come back as bytes, four at a time, and are decoded, concatenated and encoded
  into one WAV in memory (`clones.audio.join_speech`), then saved: the code this issue replaced.
- after: `clones.pipeline.synthesize`, which streams each part into a file, keeps it in the
  storage and joins the files on disk (`clones.speech_join`).

The text is Chinese, as in the issue's report: the sandbox speaks it at about 4 characters a second,
so 10,000 characters are about 40 minutes of audio (over 100 MB of 24 kHz 16-bit WAV).

    .venv/bin/python bench/speech_join_memory.py [--chars 10000] [--rounds 1] [--port 8061]
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MB = 1024 * 1024
# About 250 distinct characters of plain prose, repeated: sentences end every 20 or so.
PROSE = (
    "今天早上天气很好，我们一起去公园散步。湖边的柳树发出了新芽，孩子们在草地上放风筝。"
    "老人们坐在长椅上聊天，谈论着去年的收成和明年的打算。中午我们在附近的小饭馆吃了面条，"
    "味道非常不错。下午回家的路上，我们看见一只小猫在墙头晒太阳，它眯着眼睛，好像在做梦。"
    "晚上全家人围坐在一起，听爷爷讲他年轻时候的故事，大家都听得入了迷。"
)


def _status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def child(variant, chars):
    """Run one variant in this process and print its figures as JSON."""
    import django

    django.setup()
    from concurrent.futures import ThreadPoolExecutor

    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.files.base import ContentFile

    from accounts.models import billing
    from clones import bigmodel, pipeline
    from clones.audio import join_speech
    from clones.models import Utterance
    from clones.text import split_text

    owner = User.objects.get(username="bench")

    def before(utterance, client):
        texts = split_text(utterance.text, bigmodel.SPEECH_MAX_CHARS)
        with ThreadPoolExecutor(max_workers=settings.SPEECH_PARALLEL_PARTS) as pool:
            parts = list(
                pool.map(
                    lambda text: client.speech(input=text, voice="tongtong", model="glm-tts", response_format="wav"),
                    texts,
                )
            )
        data, seconds = join_speech(parts, settings.SPEECH_PAUSE_SECONDS)
        utterance.audio.save(f"{utterance.uuid}.wav", ContentFile(data), save=False)
        utterance.mark_ready(round(seconds, 2), len(texts))

    run = {"before": before, "after": pipeline.synthesize}[variant]

    def speak(text):
        utterance = Utterance.objects.create(owner=owner, system_voice="tongtong", text=text)
        # A plain client (no provider slots, no metering hook): both variants make the same calls.
        client = bigmodel.BigModelClient(settings.BIGMODEL_BASE_URL, settings.BIGMODEL_API_KEY, read_timeout=600)
        with client, billing(owner.pk, f"utterance:{utterance.pk}"):
            run(utterance, client)
        utterance.refresh_from_db()
        return utterance

    speak(PROSE[:200])  # warm-up: imports, codecs, connections
    idle = _status("VmRSS")
    started = time.monotonic()
    utterance = speak((PROSE * (chars // len(PROSE) + 1))[:chars])
    elapsed = time.monotonic() - started
    print(
        json.dumps(
            {
                "variant": variant,
                "idle_mb": idle / MB,
                "peak_mb": _status("VmHWM") / MB,
                "above_idle_mb": (_status("VmHWM") - idle) / MB,
                "audio_seconds": utterance.duration,
                "audio_mb": utterance.audio.size / MB,
                "parts": utterance.parts,
                "wall_seconds": elapsed,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--port", type=int, default=8061)
    parser.add_argument("--child", choices=["before", "after"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.chars)
        return

    data_dir = Path(tempfile.mkdtemp(prefix="voiceclone-bench-speech-"))
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings",
        "SANDBOX_PORT": str(args.port),
        "SPEECH_PARALLEL_PARTS": "4",
        "BIGMODEL_API_KEY": "",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [
            python,
            "manage.py",
            "shell",
            "-c",
            "from django.contrib.auth.models import User; User.objects.create(username='bench')",
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    sandbox = subprocess.Popen(
        [python, "-m", "sandbox", "--port", str(args.port), "--data-dir", str(data_dir / "sandbox")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    time.sleep(2)
    results = []
    try:
        for _round in range(args.rounds):
            for variant in ("before", "after"):
                out = subprocess.run(
                    [python, __file__, "--child", variant, "--chars", str(args.chars)],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                if out.returncode:
                    raise SystemExit(out.stderr[-3000:])
                result = json.loads(out.stdout.strip().splitlines()[-1])
                results.append(result)
                print(
                    f"{variant:6} peak {result['peak_mb']:7.1f} MB, idle {result['idle_mb']:6.1f} MB, "
                    f"above idle {result['above_idle_mb']:7.1f} MB; {result['parts']} parts, "
                    f"{result['audio_seconds']:.0f} s of audio ({result['audio_mb']:.1f} MB), "
                    f"{result['wall_seconds']:.1f} s",
                    flush=True,
                )
    finally:
        sandbox.terminate()
        sandbox.wait()
    for variant in ("before", "after"):
        above = sorted(r["above_idle_mb"] for r in results if r["variant"] == variant)
        print(f"{variant}: median peak above idle {above[len(above) // 2]:.1f} MB over {len(above)} round(s)")


if __name__ == "__main__":
    main()
