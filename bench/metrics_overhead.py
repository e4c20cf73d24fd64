"""Benchmark: what the metrics middleware adds to a request, measured in one process.

On a shared machine, two servers' requests a second wander by more than the 5% this is about, so this
also times the middleware on its own: N requests through RequestMetricsMiddleware (multiprocess mode,
as in production: each observation writes to a memory-mapped file) around a view that does nothing,
against the same view without it, and a public clone's page rendered by the test client, for scale.
bench/gallery_million.py --metrics measures the same under gunicorn and wrk.

    .venv/bin/python bench/metrics_overhead.py [--requests 20000]
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="voiceclone-bench-metrics-")
    os.environ.update({"DJANGO_SETTINGS_MODULE": "voiceclone_site.settings", "DATA_DIR": data_dir,
                       "ALLOWED_HOSTS": "testserver"})  # fmt: skip
    import django

    django.setup()
    from django.core.management import call_command
    from django.http import HttpResponse
    from django.test import RequestFactory

    from metrics.middleware import RequestMetricsMiddleware

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    factory = RequestFactory()
    request = factory.get("/clones/x/")

    class Match:
        view_name = "clones:detail"
        _func_path = "clones.views.detail"

    request.resolver_match = Match()
    response = HttpResponse("ok")

    def view(request):
        return response

    wrapped = RequestMetricsMiddleware(view)

    def timed(handler):
        started = time.perf_counter()
        for _ in range(args.requests):
            handler(request)
        return (time.perf_counter() - started) / args.requests * 1e6

    timed(wrapped)  # warm up: the first observation creates the process's files
    bare, with_metrics = min(timed(view) for _ in range(3)), min(timed(wrapped) for _ in range(3))
    cost = with_metrics - bare

    from django.contrib.auth import get_user_model
    from django.test import Client

    from clones.models import Clone

    owner = get_user_model().objects.create_user("bench-owner")
    clone = Clone.objects.create(owner=owner, name="Bench", provider_model="m", preview_text="Hi.",
                                 status="ready", visibility="public", preview_audio="previews/x.wav")  # fmt: skip
    client = Client()
    client.get(clone.get_absolute_url())
    started = time.perf_counter()
    pages = 200
    for _ in range(pages):
        assert client.get(clone.get_absolute_url()).status_code == 200
    page_us = (time.perf_counter() - started) / pages * 1e6
    print(
        f"middleware: {cost:.1f} µs a request ({with_metrics:.1f} with, {bare:.1f} without, {args.requests} requests)"
    )
    shutil.rmtree(data_dir, ignore_errors=True)
    print(f"a public clone's page in-process: {page_us:.0f} µs; the middleware is {cost / page_us * 100:.2f}% of it")


if __name__ == "__main__":
    main()
