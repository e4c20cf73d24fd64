"""Benchmark: Lighthouse (mobile, its default) on the home page, the voice library, a clone page and
the speak page, against the app under gunicorn with PostgreSQL, as the Procfile runs it.

Lighthouse is the npm package `lighthouse@12.2.3`, installed outside the project, for example
`npm install --prefix .tools/lighthouse lighthouse@12.2.3` (.tools/ is ignored by git); it drives
Debian's Chromium (CHROME_PATH). Goals (issue 20): performance at least 95, accessibility 100, best
practices at least 95. The script prints the three scores, the total transfer size and the largest
contentful paint of each page, each the median of --runs runs. See bench/README.md.

    .venv/bin/python bench/lighthouse.py [--runs 3] [--lighthouse .tools/lighthouse/node_modules/.bin/lighthouse]
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / ".tools" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices"]


def seed():
    """A visitor's and a user's site: public voices with previews and counts, a user with speech."""
    import math

    from django.contrib.auth.models import User
    from django.core.files.base import ContentFile

    from clones.models import Clone, Utterance
    from library.models import VoiceStats
    from tests.samples import wav_bytes

    Clone.objects.all().delete()
    User.objects.filter(username__startswith="bench-lh").delete()
    owner = User.objects.create_user("bench-lh", password="bench-lh-password")
    peaks = [abs(math.sin(i / 5)) * (0.4 + 0.6 * abs(math.sin(i / 17))) for i in range(120)]
    clones = []
    for n, name in enumerate(["Calm narrator", "Radio host", "Storyteller", "Evening news", "Bedtime", "Coach"]):
        clone = Clone(owner=owner, name=name, provider_model="glm-tts-clone", preview_text="Hello, and welcome.",
                      sample_format="wav", sample_duration=6.0, status=Clone.Status.READY, voice_id=f"voice-{n}",
                      visibility=Clone.Visibility.PUBLIC, allow_public_speech=n % 2 == 0, preview_peaks=peaks,
                      sample_peaks=peaks, preview_duration=4.0 + n)  # fmt: skip
        clone.sample.save("sample.wav", ContentFile(wav_bytes(4)), save=False)
        clone.preview_audio.save(f"{clone.uuid}.wav", ContentFile(wav_bytes(4)), save=False)
        clone.save()
        VoiceStats.objects.create(clone=clone, likes=10 - n, plays=100 + n, uses=n)
        clones.append(clone)
    for text in ["Good morning, and welcome to the show.", "Once upon a time, in a quiet village by the sea."]:
        utterance = Utterance(owner=owner, clone=clones[0], text=text, status=Utterance.Status.READY, duration=2.0)
        utterance.audio.save("u.wav", ContentFile(wav_bytes(2)), save=False)
        utterance.save()
    return owner, clones[0]


def session_cookie(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def lighthouse(binary, url, cookie=None):
    command = [
        str(binary), url, "--output=json", "--output-path=stdout", "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
    ]  # fmt: skip
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    for _ in range(3):  # on a loaded machine Lighthouse sometimes loses its trace (NO_NAVSTART): run again
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        if result.returncode == 0:
            break
    else:
        raise RuntimeError(result.stderr[-2000:])
    report = json.loads(result.stdout)
    audits = report["audits"]
    return {
        **{name: round(100 * report["categories"][name]["score"]) for name in CATEGORIES},
        "bytes": audits["total-byte-weight"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "failed": sorted(
            audit["id"]
            for category in ("accessibility", "best-practices")
            for ref in report["categories"][category]["auditRefs"]
            if ref["weight"] and (audit := audits[ref["id"]])["score"] is not None and audit["score"] < 1
        ),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--lighthouse", default=str(LIGHTHOUSE))
    stack.add_arguments(parser, sandbox_port=8061, web_port=8062)
    args = parser.parse_args()

    data_dir = stack.data_dir("voiceclone-bench-lighthouse-")
    env = stack.app_env(args, data_dir)
    stack.setup_django(env)
    owner, clone = seed()
    cookie = session_cookie(owner)
    base = f"http://127.0.0.1:{args.web_port}"
    pages = {
        "home (visitor)": (base + "/", None),
        "library (visitor)": (base + "/gallery/", None),
        "clone page (visitor)": (base + clone.get_absolute_url(), None),
        "speak (signed in)": (base + "/speak/", cookie),
    }
    server = stack.start_gunicorn(args, {**env, "GUNICORN_MAX_REQUESTS": "0"}, data_dir)
    try:
        results = {
            name: [lighthouse(args.lighthouse, url, c) for _ in range(args.runs)] for name, (url, c) in pages.items()
        }
    finally:
        server.stop()
    print(f"Lighthouse 12.2.3, mobile (default: emulated Moto G Power, simulated slow 4G), Chromium; gunicorn; "
          f"median of {args.runs} runs")  # fmt: skip
    for name, runs in results.items():
        keys = [*CATEGORIES, "bytes", "lcp", "fcp", "tbt", "cls"]
        median = {key: stack.median([r[key] for r in runs]) for key in keys}
        failed = sorted({audit for r in runs for audit in r["failed"]})
        below = f"; audits below 1: {', '.join(failed)}" if failed else ""
        print(f"{name:>22}: performance {median['performance']:.0f}, accessibility {median['accessibility']:.0f}, "
              f"best practices {median['best-practices']:.0f}; transfer {median['bytes'] / 1024:.1f} KiB, "
              f"LCP {median['lcp'] / 1000:.2f} s (FCP {median['fcp'] / 1000:.2f} s, TBT {median['tbt']:.0f} ms, "
              f"CLS {median['cls']:.3f}){below}")  # fmt: skip
    stack.cleanup(data_dir)


if __name__ == "__main__":
    main()
