"""Benchmark: the gallery with a million public clones in PostgreSQL, and what the metrics middleware costs.

gunicorn runs as the Procfile runs it (gunicorn.conf.py) with `bench.settings`, which adds a trivial
view to the app's URLs (same middleware, same processes). The rows come from `manage.py
make_gallery_clones` (run once; the script checks the count). wrk loads, in turn for several rounds:
the trivial view, gallery page 1, a deep page (a cursor half way down), a name search (English, Chinese,
common and rare) and a tag filter, logged out (the anonymous page cache on) and logged in (no page
cache), each against the trivial view of the same run. Then, with --metrics, a public clone's page on
two servers, with and without the metrics middleware, alternately.

    .venv/bin/python bench/gallery_million.py --database-url postgres://postgres@127.0.0.1/ops [--rounds 3]
"""

import argparse
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack, wrk  # noqa: E402

# The gallery (the voice library) lives here; the home page has "/".
GALLERY = "/gallery/"


def cursor_at(position, **filters):
    """The gallery URL (with `filters` as its query) whose page starts after the row at `position`."""
    from clones.keyset import _encode
    from clones.models import Clone

    rows = Clone.objects.gallery()
    if "tag" in filters:
        rows = rows.filter(tags__name=filters["tag"])
    row = rows.order_by("-created_at", "-pk").only("created_at")[position]
    return GALLERY + "?" + urlencode({**filters, "after": _encode(row.created_at, row.pk, position // 24 + 1)})


def session_cookie():
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench-visitor")
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def plans(urls):
    """EXPLAIN ANALYZE of each page's main query, for bench/README.md."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = {}
    client = Client()
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        sql = next(q["sql"] for q in captured if "clones_clone" in q["sql"] and "LIMIT 25" in q["sql"])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) " + sql)
            out[name] = "\n".join(row[0] for row in cursor.fetchall())
    return out


def report(title, results, trivial_name):
    print(title)
    trivial = stack.median([r["rps"] for r in results[trivial_name]])
    for name, runs in results.items():
        rps = stack.median([r["rps"] for r in runs])
        p99 = stack.median([r["p99"] for r in runs])
        p50 = stack.median([r["p50"] for r in runs])
        failed = sum(r["failed"] for r in runs)
        print(f"  {name:>34}: {rps:7.0f} req/s, p50 {p50:6.1f} ms, p99 {p99:6.1f} ms, "
              f"ratio to trivial {rps / trivial:.2f}{f', {failed} failed' if failed else ''}")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--metrics", action="store_true", help="also measure the metrics middleware")
    parser.add_argument("--only-metrics", action="store_true")
    stack.add_arguments(parser, web_port=8721)
    args = parser.parse_args()

    data_dir = stack.data_dir("voiceclone-bench-million-")
    env = stack.app_env(args, data_dir, GUNICORN_MAX_REQUESTS=0)
    stack.setup_django(env)
    from clones.models import Clone

    count = Clone.objects.gallery().count()
    print(f"{count} public clones in the gallery")
    pages = {
        "page 1": GALLERY,
        "deep page (row 500,000)": cursor_at(min(500_000, count - 30)),
        "search 'narr' (common)": GALLERY + "?" + urlencode({"q": "narr"}),
        "search '温柔' (common, 2 chars)": GALLERY + "?" + urlencode({"q": "温柔"}),
        "search '温柔女声3' (Chinese)": GALLERY + "?" + urlencode({"q": "温柔女声3"}),
        "search 'teacher 77777' (rare)": GALLERY + "?" + urlencode({"q": "teacher 77777"}),
        "tag 'news'": GALLERY + "?" + urlencode({"tag": "news"}),
        "tag 'news', deep (its row 10,000)": cursor_at(10_000, tag="news"),
    }
    cookie = {"Cookie": session_cookie()}
    base = f"http://127.0.0.1:{args.web_port}"

    stack.collectstatic(env)
    if not args.only_metrics:
        for name, plan in plans(pages).items():
            print(f"--- plan: {name}\n{plan}")
        server = stack.start_gunicorn(args, env, data_dir)
        try:
            out = {"trivial view": (base + "/bench/trivial/", None)}
            out.update({name: (base + url, None) for name, url in pages.items()})
            logged_in = {"trivial view, logged in": (base + "/bench/trivial/", cookie)}
            logged_in.update({f"{name}, logged in": (base + url, cookie) for name, url in pages.items()})
            # The floor of any signed-in page here: the same base template, session and middleware, no cards.
            logged_in["floor: saved voices, none saved, logged in"] = (base + "/library/saved/", cookie)
            variants = {**out, **logged_in}
            for url, headers in variants.values():
                wrk.run(url, connections=args.connections, seconds=2, headers=headers)
            results = {name: [] for name in variants}
            for _ in range(args.rounds):
                for name, (url, headers) in variants.items():
                    results[name].append(
                        wrk.run(url, connections=args.connections, seconds=args.seconds, headers=headers)
                    )
        finally:
            server.stop()
        report("Logged out (anonymous page cache on):", {k: results[k] for k in out}, "trivial view")
        report("Logged in (no page cache):", {k: results[k] for k in logged_in}, "trivial view, logged in")

    if args.metrics or args.only_metrics:
        clone = Clone.objects.gallery().order_by("-created_at").first()
        url = clone.get_absolute_url()
        servers = [
            stack.start_gunicorn(argparse.Namespace(web_port=args.web_port + 1), env, data_dir),
            stack.start_gunicorn(
                argparse.Namespace(web_port=args.web_port + 2), {**env, "BENCH_WITHOUT_METRICS": "true"}, data_dir
            ),
        ]
        try:
            variants = {
                "clone page, with metrics": f"http://127.0.0.1:{args.web_port + 1}{url}",
                "clone page, without metrics": f"http://127.0.0.1:{args.web_port + 2}{url}",
            }
            for target in variants.values():
                wrk.run(target, connections=args.connections, seconds=2)
            results = {name: [] for name in variants}
            for round_number in range(args.rounds * 2):
                # ABBA order, so that a machine getting busier or quieter during the run favours neither.
                order = list(variants.items()) if round_number % 2 == 0 else list(variants.items())[::-1]
                for name, target in order:
                    results[name].append(wrk.run(target, connections=args.connections, seconds=args.seconds))
        finally:
            for server in servers:
                server.stop()
        report("Metrics middleware, a public clone's page:", results, "clone page, without metrics")
    stack.cleanup(data_dir)


if __name__ == "__main__":
    main()
