"""Benchmark: streamed speech on the production stack (gunicorn with gunicorn.conf.py, PostgreSQL, the
sandbox in its own process streaming like the provider).

1. Time to first audio byte at the client, for texts of 100, 1,000 and 10,000 characters, three ways
   in turn each round: the sandbox's own first chunk (a direct streamed call for the text's first part,
   the one the app asks for first), through the JSON API (`speak` with `stream: true`), and through the
   speak page's fetch path (`POST /speak/stream/` with a session and CSRF token, as the page's script
   sends it). Reported: medians, and each path's overhead over the direct call.
2. 20 concurrent streams at the slot cap (PROVIDER_MAX_CONCURRENCY and the sandbox's concurrency limit
   both 4, speech paced at 4x real time): each stream's time to first byte and to its end (none may
   starve), and the gallery's latency under wrk during the streams against without them.

    .venv/bin/python bench/speech_streaming.py [--rounds 10] [--streams 20]
"""

import argparse
import base64
import json
import re
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack, wrk  # noqa: E402

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank today. "


def text_of(length):
    return (SENTENCE * (length // len(SENTENCE) + 1))[: length - 1].rstrip() + "."


def start_sandbox(args, log_dir, **options):
    env = {"SANDBOX_API_KEY": "sandbox", **{f"SANDBOX_{k.upper()}": str(v) for k, v in options.items()}}
    command = [sys.executable, "-m", "sandbox", "--port", str(args.sandbox_port), "--data-dir",
               str(Path(log_dir) / "sandbox")]  # fmt: skip
    process = stack.Process("sandbox", command, {**stack.os.environ, **env}, log_dir)
    url = f"http://127.0.0.1:{args.sandbox_port}/_sandbox/calls"
    return stack._started(process, lambda: stack._answers(process, url), 30, "the sandbox")


def prepare_data():
    """A user with an API token, a session and a clone the sandbox speaks with (a system voice's id)."""
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import ApiToken, Limits
    from clones.models import Clone, Utterance

    Utterance.objects.all().delete()
    user, _ = User.objects.get_or_create(username="bench-stream")
    Limits.objects.update_or_create(user=user, defaults={"speech_chars_per_day": 10**9})
    clone = Clone.objects.filter(owner=user).first() or Clone.objects.create(
        owner=user, name="Bench voice", provider_model="glm-tts-clone", preview_text="Hello.", sample_format="wav",
        sample_duration=5.0, status=Clone.Status.READY, voice_id="jam",
    )  # fmt: skip
    token = ApiToken.issue(user, "bench")[1]
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return clone, token, session.session_key


def read_all(response, skip=44):
    """Read the whole answer: (the moment its first audio byte, after `skip` header bytes, was in
    hand, and how many bytes came)."""
    seen, first = 0, None
    for chunk in response.iter_content(chunk_size=None):
        seen += len(chunk)
        if first is None and seen > skip:
            first = time.monotonic()
    if first is None:
        raise RuntimeError("no audio")
    return first, seen


def direct(base, text):
    from clones.bigmodel import SPEECH_MAX_CHARS
    from clones.text import split_text

    body = {"model": "glm-tts", "input": split_text(text, SPEECH_MAX_CHARS)[0], "voice": "jam", "stream": True,
            "response_format": "pcm"}  # fmt: skip
    started = time.monotonic()
    with requests.post(f"{base}/audio/speech", json=body, headers={"Authorization": "Bearer sandbox"},
                       stream=True, timeout=120) as response:  # fmt: skip
        for line in response.iter_lines():
            if line.startswith(b"data: {"):
                content = json.loads(line[6:])["choices"][0]["delta"]["content"]
                if base64.b64decode(content):
                    at = time.monotonic()
                    break
        for _ in response.iter_lines():  # to its end, as the app's call does
            pass
    return at - started


def through_api(web, token, clone, text):
    started = time.monotonic()
    with requests.post(f"{web}/api/v1/clones/{clone.uuid}/speak", json={"text": text, "stream": True},
                       headers={"Authorization": f"Bearer {token}"}, stream=True, timeout=300) as response:  # fmt: skip
        assert response.status_code == 200, response.text
        at, _size = read_all(response)
    return at - started


def page_session(web, session_key):
    session = requests.Session()
    session.cookies.set("sessionid", session_key)
    page = session.get(f"{web}/speak/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session, token


def through_page(web, session, csrf, text):
    started = time.monotonic()
    with session.post(f"{web}/speak/stream/", data={"text": text, "voice": "jam", "speed": "1", "volume": "1"},
                      headers={"X-CSRFToken": csrf, "Referer": f"{web}/speak/"}, stream=True,
                      timeout=300) as response:  # fmt: skip
        assert response.status_code == 200, response.text[:500]
        at, _size = read_all(response)
    return at - started


def first_byte_benchmark(args, env, data_dir):
    sandbox = start_sandbox(args, data_dir, first_chunk_latency=0.1)
    web = None
    try:
        clone, token, session_key = prepare_data()
        web = stack.start_gunicorn(args, env, data_dir)
        base = f"http://127.0.0.1:{args.sandbox_port}/api/paas/v4"
        url = f"http://127.0.0.1:{args.web_port}"
        session, csrf = page_session(url, session_key)
        ways = {
            "sandbox direct": lambda text: direct(base, text),
            "JSON API": lambda text: through_api(url, token, clone, text),
            "page fetch": lambda text: through_page(url, session, csrf, text),
        }
        for length in (100, 1000, 10_000):  # warm-up
            for way in ways.values():
                way(text_of(length))
        results = {(length, name): [] for length in (100, 1000, 10_000) for name in ways}
        for round_number in range(args.rounds):
            for length in (100, 1000, 10_000):
                names = list(ways)
                names = names[round_number % 3 :] + names[: round_number % 3]  # each way first in turn
                for name in names:
                    results[length, name].append(ways[name](text_of(length)))
    finally:
        if web:
            web.stop()
        sandbox.stop()
    if args.json:
        raw = {f"{length} {name}": [seconds * 1000 for seconds in results[length, name]] for length, name in results}
        _save(args.json, "first_byte_ms", raw)
    print(f"Time to first audio byte, median of {args.rounds} rounds (ms); sandbox first-chunk latency 100 ms")
    print(f"{'characters':>10} {'direct':>8} {'API':>8} {'page':>8} {'API overhead':>13} {'page overhead':>14}")
    for length in (100, 1000, 10_000):
        d, a, p = (statistics.median(results[length, n]) * 1000 for n in ways)
        print(f"{length:>10} {d:8.1f} {a:8.1f} {p:8.1f} {a - d:13.1f} {p - d:14.1f}")


def concurrent_streams(args, env, data_dir):
    from clones.models import Utterance

    sandbox = start_sandbox(args, data_dir, max_concurrency=4, stream_pace=4.0, first_chunk_latency=0.1)
    web = None
    try:
        from bench.web_gallery import seed

        seed(1000)  # the gallery's clones (this empties the clones table first)
        clone, token, _ = prepare_data()
        web = stack.start_gunicorn(args, {**env, "PROVIDER_MAX_CONCURRENCY": "4", "GUNICORN_MAX_REQUESTS": "0"},
                                   data_dir)  # fmt: skip
        url = f"http://127.0.0.1:{args.web_port}"
        wrk.run(url + "/", connections=10, seconds=2)
        quiet = wrk.run(url + "/", connections=10, seconds=args.gallery_seconds)
        text = text_of(400)  # about 25 s of speech, 6 s at 4x
        outcomes = [None] * args.streams

        def listen(number):
            started = time.monotonic()
            try:
                with requests.post(f"{url}/api/v1/clones/{clone.uuid}/speak", json={"text": text, "stream": True},
                                   headers={"Authorization": f"Bearer {token}"}, stream=True,
                                   timeout=300) as response:  # fmt: skip
                    if response.status_code != 200:
                        outcomes[number] = ("refused", response.status_code, response.text[:200])
                        return
                    first, size = read_all(response)
                outcomes[number] = ("ok", first - started, time.monotonic() - started, size)
            except Exception as exc:  # reported below
                outcomes[number] = ("error", repr(exc))

        threads = [threading.Thread(target=listen, args=(n,)) for n in range(args.streams)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        busy = wrk.run(url + "/", connections=10, seconds=args.gallery_seconds)
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
        after = wrk.run(url + "/", connections=10, seconds=args.gallery_seconds)
        calls = requests.get(f"http://127.0.0.1:{args.sandbox_port}/_sandbox/calls?route=audio.speech").json()["calls"]
    finally:
        if web:
            web.stop()
        sandbox.stop()
    ok = [o for o in outcomes if o and o[0] == "ok"]
    if args.json:
        gallery = {"without": quiet, "during": busy, "after": after}
        _save(args.json, "streams", {"outcomes": outcomes, "took": took, "gallery": gallery})
    print(f"{args.streams} streams of {len(text)} characters at once, 4 provider slots, speech paced at 4x; "
          f"all done in {took:.1f} s")  # fmt: skip
    print(f"  finished: {len(ok)}; not: {[o for o in outcomes if not o or o[0] != 'ok']}")
    if ok:
        firsts = sorted(o[1] for o in ok)
        ends = sorted(o[2] for o in ok)
        print(f"  first byte (s): min {firsts[0]:.2f}, median {statistics.median(firsts):.2f}, max {firsts[-1]:.2f}")
        print(f"  whole stream (s): min {ends[0]:.2f}, median {statistics.median(ends):.2f}, max {ends[-1]:.2f}")
        print(f"  audio per stream (bytes): min {min(o[3] for o in ok)}, max {max(o[3] for o in ok)}")
    statuses = {}
    for u in Utterance.objects.all():
        statuses[u.status] = statuses.get(u.status, 0) + 1
    print(f"  utterances: {statuses}; provider calls: {len(calls)}, refused by the sandbox (429): "
          f"{sum(1 for c in calls if c['status'] == 429)}")  # fmt: skip
    for name, result in (("without streams", quiet), ("during the streams", busy), ("after", after)):
        print(f"  gallery {name:>20}: {result['rps']:7.0f} req/s, p50 {result['p50']:.1f} ms, "
              f"p99 {result['p99']:.1f} ms, failed {result['failed']}")  # fmt: skip


def _save(path, key, value):
    """Add the raw figures to a JSON file, for runs compared side by side (several runs, one file each)."""
    path = Path(path)
    saved = json.loads(path.read_text()) if path.exists() else {}
    saved[key] = value
    path.write_text(json.dumps(saved, indent=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--gallery-seconds", type=int, default=5)
    parser.add_argument("--skip-first-byte", action="store_true")
    parser.add_argument("--skip-concurrent", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs")
    parser.add_argument("--json", help="also write the raw figures (every round) to this JSON file")
    stack.add_arguments(parser)
    args = parser.parse_args()
    data_dir = stack.data_dir("voiceclone-bench-stream-")
    env = stack.app_env(args, data_dir, QUOTA_SPEECH_CHARS_PER_DAY=10**9)
    stack.setup_django(env)
    stack.collectstatic(env)
    if not args.skip_first_byte:
        first_byte_benchmark(args, env, data_dir)
    if not args.skip_concurrent:
        concurrent_streams(args, env, data_dir)
    if args.keep:
        print(f"logs kept in {data_dir}")
    else:
        stack.cleanup(data_dir)


if __name__ == "__main__":
    main()
