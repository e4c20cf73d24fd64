"""Benchmark: the public gallery with 10,000 clones in PostgreSQL, under gunicorn, against a trivial view.

Every clone has library counts (likes, saves, plays, uses: library.VoiceStats), a bench user has liked
and saved a few hundred, and some have a showcase clip, so a page renders everything a card shows.

gunicorn runs as the Procfile runs it (gunicorn.conf.py: gthread, 2 x cores + 1 processes) with
`bench.settings`, which only adds a trivial view to the app's URLs, so it passes through the same
middleware in the same processes. wrk (20 connections) loads the trivial view, gallery page 1 and a
deep gallery page, alternately, for several rounds; the script reports medians of requests a second
and of p99 latency, the gallery / trivial ratio, and the SQL queries a gallery page makes (counted
with 1 and with 10,000 clones: they must not grow). See bench/README.md.

    .venv/bin/python bench/web_gallery.py [--clones 10000] [--rounds 3] [--seconds 10]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack, wrk  # noqa: E402
from bench.gallery_million import cursor_at, session_cookie  # noqa: E402

TAGS = ["calm", "narrator", "warm", "deep", "bright", "story", "news", "kids", "radio", "podcast"]
GALLERY = "/gallery/"


def seed(count):
    """`count` public, ready clones by 100 owners, newest first one minute apart, some with tags."""
    from django.contrib.auth.models import User
    from django.db import connection

    from clones.models import Clone, Tag

    if Clone.objects.gallery().count() == count and Clone.objects.count() == count:
        return
    Clone.objects.all().delete()
    User.objects.filter(username__startswith="bench-gallery-").delete()
    owners = User.objects.bulk_create([User(username=f"bench-gallery-{n}") for n in range(100)])
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
    clones = Clone.objects.bulk_create(
        [
            Clone(
                owner=owners[n % 100],
                name=f"Voice number {n}",
                provider_model="glm-tts-clone",
                preview_text="Hello.",
                sample_format="wav",
                sample_duration=5.0,
                language=("en", "zh")[n % 2],
                visibility=Clone.Visibility.PUBLIC,
                status=Clone.Status.READY,
                voice_id=f"voice-{n}",
                preview_audio=f"previews/bench-{n}.wav",
            )  # fmt: skip
            for n in range(count)
        ],
        batch_size=1000,
    )
    Through = Clone.tags.through
    Through.objects.bulk_create(
        [Through(clone_id=c.pk, tag_id=tags[(i + k) % 10].pk) for i, c in enumerate(clones) for k in range(i % 3)],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clones_clone SET created_at = created_at - id * interval '1 minute'")
    seed_library(clones, owners)


def seed_library(clones, owners):
    """Counts on every voice, one person's likes and saves on every 30th, a showcase clip on every 10th."""
    from clones.models import Utterance
    from library.models import Mark, Showcase, VoiceStats

    VoiceStats.objects.bulk_create(
        [VoiceStats(clone_id=c.pk, likes=(i * 7) % 97, saves=i % 13, plays=(i * 31) % 1009, uses=(i * 3) % 41)
         for i, c in enumerate(clones)],
        batch_size=5000,
    )  # fmt: skip
    fan = owners[0]
    Mark.objects.bulk_create(
        [Mark(user=fan, clone_id=c.pk, kind=kind) for c in clones[::30] for kind in Mark.Kind.values], batch_size=5000
    )
    showcased = clones[::10]
    utterances = Utterance.objects.bulk_create(
        [Utterance(owner_id=c.owner_id, clone_id=c.pk, text="A showcase clip.", status="ready",
                   audio=f"utterances/bench-{c.pk}.wav") for c in showcased],
        batch_size=5000,
    )  # fmt: skip
    Showcase.objects.bulk_create([Showcase(clone_id=u.clone_id, utterance=u) for u in utterances], batch_size=5000)


def vacuum():
    """What autovacuum does in time: fresh statistics, and a visibility map for index-only counts."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE clones_clone")
        cursor.execute("VACUUM ANALYZE library_voicestats")


def page_url(number):
    """Gallery pages follow a cursor (clones.keyset): the URL of page `number`, from its cursor."""
    from clones.views import GALLERY_PAGE_SIZE

    return cursor_at((number - 1) * GALLERY_PAGE_SIZE - 1) if number > 1 else GALLERY


def queries_per_page():
    """SQL queries of gallery page 1 and the last page, with all clones and with only one public."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from clones.models import Clone
    from clones.views import GALLERY_PAGE_SIZE

    settings.GALLERY_CACHE_SECONDS = 0  # count what rendering a page costs, not a cache hit

    def count(url, as_user=None):
        visitor = Client()
        if as_user is not None:
            visitor.force_login(as_user)
        with CaptureQueriesContext(connection) as captured:
            assert visitor.get(url).status_code == 200
        return len(captured)

    from django.contrib.auth.models import User

    fan = User.objects.get(username="bench-gallery-0")
    last = -(-Clone.objects.gallery().count() // GALLERY_PAGE_SIZE)
    counts = {
        "page 1": count(GALLERY),
        f"page {last}": count(page_url(last)),
        "most liked": count(f"{GALLERY}?sort=liked"),
        "most liked, last numbered page": count(f"{GALLERY}?sort=liked&page=10"),
        "page 1 signed in (likes and saves marked)": count(GALLERY, fan),
    }
    with transaction.atomic():
        keep = Clone.objects.gallery().first()
        Clone.objects.exclude(pk=keep.pk).update(visibility=Clone.Visibility.PRIVATE)
        counts["page 1 with 1 clone"] = count(GALLERY)
        transaction.set_rollback(True)
    return counts, last


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clones", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--deep-page", type=int, default=None, help="default: the middle page")
    stack.add_arguments(parser)
    args = parser.parse_args()

    data_dir = stack.data_dir("voiceclone-bench-web-")
    env = stack.app_env(args, data_dir)
    stack.setup_django(env)
    seed(args.clones)
    stack.collectstatic(env)
    queries, last = queries_per_page()
    vacuum()
    deep = args.deep_page or last // 2

    # Three servers, the same but for the caches: GALLERY_CACHE_SECONDS at its default, and 0; and
    # neither the page nor the card cache (CARD_CACHE_SECONDS=0).
    # Worker recycling off (GUNICORN_MAX_REQUESTS=0): at these rates a recycle every 2,000 requests
    # would restart a process every few seconds and add the same cost to every variant.
    env = {**env, "GUNICORN_MAX_REQUESTS": "0"}
    cached = f"http://127.0.0.1:{args.web_port}"
    fresh = f"http://127.0.0.1:{args.web_port + 1}"
    bare = f"http://127.0.0.1:{args.web_port + 2}"
    # Signed in, nobody gets a cached page: every request renders one (its cards from the card cache).
    signed_in = {"Cookie": session_cookie()}
    variants = {
        "trivial view": (cached + "/bench/trivial/", None),
        "gallery page 1": (cached + GALLERY, None),
        "gallery page 1, signed in": (cached + GALLERY, signed_in),
        f"gallery page {deep}, signed in": (cached + page_url(deep), signed_in),
        "trivial view, 2nd server": (fresh + "/bench/trivial/", None),
        "gallery page 1, no cache": (fresh + GALLERY, None),
        "gallery most liked, no cache": (fresh + GALLERY + "?sort=liked", None),
        f"gallery page {deep}, no cache": (fresh + page_url(deep), None),
        # What the card cache saves: a third server renders every card every time, as before it.
        "trivial view, 3rd server": (bare + "/bench/trivial/", None),
        "gallery page 1, no card cache": (bare + GALLERY, None),
        "gallery page 1, signed in, no card cache": (bare + GALLERY, signed_in),
    }
    results = {name: [] for name in variants}
    servers = [stack.start_gunicorn(args, env, data_dir)]
    try:
        servers.append(
            stack.start_gunicorn(
                argparse.Namespace(web_port=args.web_port + 1), {**env, "GALLERY_CACHE_SECONDS": "0"}, data_dir
            )
        )
        servers.append(
            stack.start_gunicorn(
                argparse.Namespace(web_port=args.web_port + 2),
                {**env, "GALLERY_CACHE_SECONDS": "0", "CARD_CACHE_SECONDS": "0"},
                data_dir,
            )
        )
        for url, headers in variants.values():  # warm up every process and template
            wrk.run(url, connections=args.connections, seconds=2, headers=headers)
        for _ in range(args.rounds):
            for name, (url, headers) in variants.items():
                result = wrk.run(url, connections=args.connections, seconds=args.seconds, headers=headers)
                assert not result["failed"], result
                results[name].append(result)
    finally:
        for server in servers:
            server.stop()

    print(f"{args.clones} public clones in PostgreSQL; gunicorn (gunicorn.conf.py defaults, LocMem cache) here; "
          f"wrk, {args.connections} connections, {args.rounds} x {args.seconds} s per variant, in turn")  # fmt: skip
    for name, runs in results.items():
        # Each gallery variant against the trivial view of its own server.
        own = "trivial view"
        if "no card cache" in name or "3rd" in name:
            own = "trivial view, 3rd server"
        elif name.startswith("gallery") and "no cache" in name or "2nd" in name:
            own = "trivial view, 2nd server"
        trivial = stack.median([r["rps"] for r in results[own]])
        rps = stack.median([r["rps"] for r in runs])
        p99 = stack.median([r["p99"] for r in runs])
        p50 = stack.median([r["p50"] for r in runs])
        each = ", ".join(f"{r['rps']:.0f}" for r in runs)
        timeouts = [r["socket_errors"] for r in runs if r["socket_errors"] and "timeout 0" not in r["socket_errors"]]
        errors = f"; wrk socket errors: {timeouts}" if timeouts else ""
        print(f"{name:>28}: {rps:7.0f} req/s (runs {each}), p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
              f"ratio to trivial {rps / trivial:.2f}{errors}")  # fmt: skip
    print("SQL queries per gallery page: " + ", ".join(f"{name}: {n}" for name, n in queries.items()))
    stack.cleanup(data_dir)


if __name__ == "__main__":
    main()
