"""Benchmark: where a streamed speech request spends its time before the first audio byte.

One process: the production settings on PostgreSQL, the sandbox in a process of its own streaming as
the provider does (first-chunk latency 100 ms), and the app's WSGI handler called in this process with
each step timed as it passes (the functions named in STEPS are wrapped here, in this process only, to
note the moment they start and end; every SQL statement is noted with its thread and length). The
request goes through the JSON API (`speak` with `stream: true`) and the page's fetch path
(`POST /speak/stream/`), for 100, 1,000 and 10,000 characters; the report is the median moment of each
step, in ms from the request's start, with the queries on the request's thread and on the part's.
What gunicorn adds on top (its own parsing and the response's flush) is the difference between
bench/speech_streaming.py's figures and these.

    .venv/bin/python bench/speech_stream_steps.py [--rounds 10] [--profile 1000]
"""

import argparse
import cProfile
import functools
import io
import json
import pstats
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack  # noqa: E402
from bench.speech_streaming import prepare_data, start_sandbox, text_of  # noqa: E402

LENGTHS = (100, 1000, 10_000)
_marks = threading.local()
_log = []  # (thread name, step, "start" | "end", monotonic time, the thread's CPU time)
_queries = []  # (thread name, start, seconds, sql)


def note(step, edge):
    _log.append((threading.current_thread().name, step, edge, time.monotonic(), time.thread_time()))


def timed(step, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        note(step, "start")
        try:
            return function(*args, **kwargs)
        finally:
            note(step, "end")

    return wrapper


def timed_generator(step, function):
    """A generator function whose first item is noted: `step` ends when it yields its first."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        note(step, "start")
        first = True
        for item in function(*args, **kwargs):
            if first:
                note(step, "end")
                first = False
            yield item

    return wrapper


def instrument():
    """Wrap each step of a streamed request (this process only) and note every SQL statement."""
    import requests
    import urllib3.connection
    from django.db.backends import utils

    from accounts import models as accounts
    from api import auth
    from api import views as api_views
    from checks import models as checks
    from clones import bigmodel, forms, provider_slots, streaming, submissions
    from clones import views as clone_views

    auth.TokenAuth.authenticate = timed("token lookup", auth.TokenAuth.authenticate)
    forms.SpeechForm.__init__ = timed("form built", forms.SpeechForm.__init__)
    forms.SpeechForm.is_valid = timed("form validated", forms.SpeechForm.is_valid)
    streaming.start_speech_stream = timed("quota charged, utterance saved", submissions.start_speech_stream)
    accounts.charge = timed("quota charge", accounts.charge)
    submissions.charge = accounts.charge
    # Where the rules are applied: when the stream is set up (before) or before the charge (now).
    for module in (streaming, submissions):
        if hasattr(module, "spoken_form"):
            module.spoken_form = timed("pronunciation rules", checks.spoken_form)
    connection = urllib3.connection.HTTPConnection
    connection.connect = timed("provider connection opened", connection.connect)
    streaming.split_text = timed("text split", streaming.split_text)
    streaming.SpeechStream.__init__ = timed("stream set up", streaming.SpeechStream.__init__)
    streaming.SpeechStream.start = timed("first audio awaited (start)", streaming.SpeechStream.start)
    streaming.pipeline.provider_client = timed("provider client built", streaming.pipeline.provider_client)
    provider_slots._try_take = timed("provider slot taken", provider_slots._try_take)
    requests.Session.post = timed("provider answered (headers)", requests.Session.post)
    bigmodel._sse_data = timed_generator("first event read", bigmodel._sse_data)
    bigmodel._speech_chunk = timed("event decoded", bigmodel._speech_chunk)
    streaming.as_wav = timed_generator("WAV header + first audio", streaming.as_wav)
    streaming.streaming_response = timed("response built", streaming.streaming_response)
    api_views._stream = timed("API view: stream", api_views._stream)
    clone_views.speak_stream = timed("page view", clone_views.speak_stream)

    execute = utils.CursorWrapper._execute

    def noted_execute(self, sql, params, *ignored):
        started = time.monotonic()
        try:
            return execute(self, sql, params, *ignored)
        finally:
            _queries.append((threading.current_thread().name, started, time.monotonic() - started, sql))

    utils.CursorWrapper._execute = noted_execute


def environ(path, body, content_type, headers):
    from wsgiref.util import setup_testing_defaults

    env = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    env.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    setup_testing_defaults(env)
    return env


def one_request(application, env):
    """Call the app as gunicorn does: the moments of the call's start, its headers and its first audio
    byte (after the 44-byte WAV header); the answer is read to its end and closed."""
    _log.clear()
    _queries.clear()
    statuses = []
    started = time.monotonic()
    note("request", "start")
    body = application(env, lambda status, headers, exc_info=None: statuses.append(status))
    note("headers", "end")
    seen, first = 0, None
    try:
        for chunk in body:
            seen += len(chunk)
            if first is None and seen > 44:
                first = time.monotonic()
                note("first audio byte", "end")
    finally:
        body.close()
    if not statuses[0].startswith("200") or first is None:
        raise RuntimeError(f"{statuses[0]}: no audio")
    return started, first, list(_log), list(_queries)


def steps_of(started, first, log, queries):
    """{step: ms from the start to its end (the first time it ends)}, plus the queries before the first byte."""
    moments, began = {}, {}
    request_thread = log[0][0]
    cpu = {thread: (at_cpu, at_cpu) for thread, _step, _edge, _at, at_cpu in log}  # first and last seen
    for thread, step, _edge, at, at_cpu in log:
        if at <= first or step == "first audio byte":
            cpu[thread] = (min(cpu[thread][0], at_cpu), at_cpu)
    for _thread, step, edge, at, _cpu in log:
        if edge == "start":
            began.setdefault(step, at)
        elif step not in moments:
            moments[step] = (at - started) * 1000
            if step in began:
                moments[f"{step}: took"] = (at - began[step]) * 1000
    moments["first audio byte"] = (first - started) * 1000
    # CPU time spent before the first byte: what makes the overhead grow when the cores are busy. A
    # part's thread is new, so its CPU clock starts at zero.
    moments["CPU ms, request's thread"] = (cpu[request_thread][1] - cpu[request_thread][0]) * 1000
    moments["CPU ms, first part's thread"] = cpu.get("speech-0", (0, 0))[1] * 1000
    before = [q for q in queries if q[1] < first]
    on_request = [q for q in before if q[0] == request_thread]
    on_parts = [q for q in before if q[0] != request_thread]
    moments["queries on the request's thread"] = len(on_request)
    moments["their ms"] = sum(q[2] for q in on_request) * 1000
    moments["queries on the part's thread"] = len(on_parts)
    moments["their ms "] = sum(q[2] for q in on_parts) * 1000
    return moments


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--profile", type=int, default=0, help="also cProfile 20 requests of this many characters")
    parser.add_argument("--queries", action="store_true", help="print the last request's queries")
    stack.add_arguments(parser, sandbox_port=8271, web_port=8272)
    args = parser.parse_args()
    data_dir = stack.data_dir("voiceclone-bench-stream-steps-")
    env = stack.app_env(args, data_dir, QUOTA_SPEECH_CHARS_PER_DAY=10**9)
    stack.setup_django(env)
    sandbox = start_sandbox(args, data_dir, first_chunk_latency=0.1)
    try:
        from django.core.wsgi import get_wsgi_application
        from django.middleware.csrf import _get_new_csrf_string

        application = get_wsgi_application()
        instrument()
        clone, token, session_key = prepare_data()
        csrf = _get_new_csrf_string()

        def api(text):
            body = json.dumps({"text": text, "stream": True}).encode()
            headers = {"Authorization": f"Bearer {token}"}
            return environ(f"/api/v1/clones/{clone.uuid}/speak", body, "application/json", headers)

        def page(text):
            from urllib.parse import urlencode

            body = urlencode({"text": text, "voice": "jam", "speed": "1", "volume": "1"}).encode()
            headers = {"Cookie": f"sessionid={session_key}; csrftoken={csrf}", "X-CSRFToken": csrf,
                       "Referer": "http://127.0.0.1/speak/"}  # fmt: skip
            return environ("/speak/stream/", body, "application/x-www-form-urlencoded", headers)

        ways = {"JSON API": api, "page fetch": page}
        for length in LENGTHS:  # warm-up
            for way in ways.values():
                one_request(application, way(text_of(length)))
        results = {}
        last = {}
        for _round in range(args.rounds):
            for length in LENGTHS:
                for name, way in ways.items():
                    last[name, length] = one_request(application, way(text_of(length)))
                    results.setdefault((name, length), []).append(steps_of(*last[name, length]))
        if args.queries:
            for name in ways:
                started, first, _log, queries = last[name, 100]
                print(f"\n{name}, 100 characters: the queries before the first audio byte (ms from the start, ms)")
                for thread, at, seconds, sql in queries:
                    if at < first:
                        print(f"  {thread:>12} {(at - started) * 1000:6.1f} {seconds * 1000:5.2f} {sql[:100]}")
        for name in ways:
            print(f"\n{name}: ms from the request's start to the end of each step (medians of {args.rounds})")
            keys = []
            for length in LENGTHS:
                for moments in results[name, length]:
                    keys += [k for k in moments if k not in keys]

            def order(key, short=results[name, 100]):
                if "quer" in key or "their" in key or key.startswith("CPU"):
                    return 10**9
                if key.endswith(": took"):
                    return 10**8 + order(key.removesuffix(": took"))
                return statistics.median(m.get(key, 0) for m in short)

            keys.sort(key=order)
            print(f"{'step (ends at; then how long each took)':>40} " + " ".join(f"{length:>8}" for length in LENGTHS))
            for key in keys:
                if key in ("request: took", "headers: took"):
                    continue
                cells = []
                for length in LENGTHS:
                    values = [m[key] for m in results[name, length] if key in m]
                    cells.append(f"{statistics.median(values):8.1f}" if values else f"{'-':>8}")
                print(f"{key:>40} " + " ".join(cells))
        if args.profile:
            profiler = cProfile.Profile()
            for _ in range(20):
                environ_ = api(text_of(args.profile))
                profiler.enable()
                one_request(application, environ_)
                profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
            print(out.getvalue())
    finally:
        sandbox.stop()
        stack.cleanup(data_dir)


if __name__ == "__main__":
    main()
