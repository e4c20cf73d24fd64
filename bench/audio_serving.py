"""Benchmark: serving a 1 MB preview with Range requests, against whitenoise serving a file of the same size.

The preview goes through the app's access-checked view (database lookup of the clone, storage API,
Range handling in clones/audio_responses.py); the static file is the same bytes served by whitenoise from the
same gunicorn processes. wrk (20 connections) asks for 64 KB ranges at random offsets (a player
seeking) and for the whole file as `bytes=0-` (a player starting), each variant in turn, for several
rounds; the script reports medians of requests a second and their ratio. See bench/README.md.

    .venv/bin/python bench/audio_serving.py [--rounds 3] [--seconds 10]
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack, wrk  # noqa: E402

SIZE = 1024 * 1024
RANGE = 64 * 1024
SCRIPTS = {
    "64 KB at random offsets": f"""
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
request = function()
  local start = math.random(0, {SIZE - RANGE})
  return wrk.format(nil, nil, {{["Range"] = "bytes=" .. start .. "-" .. (start + {RANGE - 1})}})
end
""",
    "whole file (bytes=0-)": """wrk.headers["Range"] = "bytes=0-"
""",
}


def audio_bytes():
    """1 MB of WAV: a header, then noise (incompressible, so no one serves it smaller)."""
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(os.urandom(SIZE - 44))
    data = buffer.getvalue()
    assert len(data) == SIZE
    return data


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=20)
    stack.add_arguments(parser)
    args = parser.parse_args()

    data_dir = stack.data_dir("voiceclone-bench-audio-")
    env = stack.app_env(args, data_dir)
    stack.setup_django(env)

    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.files.base import ContentFile

    from clones.models import Clone

    data = audio_bytes()
    static = Path(settings.BENCH_STATIC_DIR) / "bench" / "preview-1mb.wav"
    static.parent.mkdir(parents=True, exist_ok=True)
    static.write_bytes(data)
    User.objects.filter(username="bench-audio").delete()
    clone = Clone(owner=User.objects.create_user("bench-audio"), name="Audio bench", provider_model="glm-tts-clone",
                  preview_text="Hello.", sample_format="wav", sample_duration=5.0, voice_id="bench-audio",
                  visibility=Clone.Visibility.PUBLIC, status=Clone.Status.READY)  # fmt: skip
    clone.preview_audio.save(f"{clone.uuid}.wav", ContentFile(data), save=False)
    clone.save()
    scripts = {}
    for n, (name, lua) in enumerate(SCRIPTS.items()):
        scripts[name] = data_dir / f"requests{n}.lua"
        scripts[name].write_text(lua)

    base = f"http://127.0.0.1:{args.web_port}"
    targets = {"preview view": clone.preview_url, "whitenoise": "/static/bench/preview-1mb.wav"}
    results = {(kind, target): [] for kind in SCRIPTS for target in targets}
    # As in web_gallery.py: no worker recycling in the middle of a run.
    gunicorn = stack.start_gunicorn(args, {**env, "GUNICORN_MAX_REQUESTS": "0"}, data_dir)
    try:
        import requests

        for path in targets.values():  # both answer the same bytes
            response = requests.get(base + path, headers={"Range": "bytes=100-199"}, timeout=10)
            assert response.status_code == 206 and response.content == data[100:200], (path, response.status_code)
            wrk.run(base + path, connections=args.connections, seconds=2)  # warm-up
        for _ in range(args.rounds):
            for kind, script in scripts.items():
                for target, path in targets.items():
                    result = wrk.run(base + path, connections=args.connections, seconds=args.seconds, script=script)
                    assert not result["failed"], result
                    results[kind, target].append(result)
    finally:
        gunicorn.stop()
        clone.delete_with_files()

    print(f"1 MB WAV, gunicorn (gunicorn.conf.py defaults) on this machine; wrk, {args.connections} connections, "
          f"{args.rounds} x {args.seconds} s per variant, in turn")  # fmt: skip
    for kind in SCRIPTS:
        view, static_rps = (stack.median([r["rps"] for r in results[kind, t]]) for t in targets)
        for target in targets:
            runs = results[kind, target]
            rps = stack.median([r["rps"] for r in runs])
            each = ", ".join(f"{r['rps']:.0f}" for r in runs)
            p99 = stack.median([r["p99"] for r in runs])
            print(f"{kind}, {target:>12}: {rps:7.0f} req/s (runs {each}), p99 {p99:.1f} ms")
        print(f"{kind}: preview view / whitenoise = {view / static_rps:.2f}")
    stack.cleanup(data_dir)


if __name__ == "__main__":
    main()
