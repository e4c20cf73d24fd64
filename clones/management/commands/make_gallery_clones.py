"""Fill the gallery with public clones for the benchmark (bench/gallery_million.py): a million by default.

The rows are real Clone rows, public and ready, with English and Chinese names and a tag on every
tenth, all playing one shared preview file; they belong to one user made for them. Nothing is sent
to the provider: these voices exist only here. Run it on a database of its own, never a real one.
"""

import random
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from clones.models import Clone, Tag

ENGLISH = ["Calm", "Warm", "Bright", "Deep", "Gentle", "Crisp", "Husky", "Soft", "Steady", "Lively"]
ROLES = ["narrator", "teacher", "storyteller", "announcer", "reader", "host", "singer", "guide"]
CHINESE = ["温柔女声", "沉稳男声", "新闻播报", "童话故事", "活泼少女", "磁性低音", "古风旁白", "客服小姐"]
TAGS = ["narrator", "warm", "news", "story", "gentle", "deep", "bright", "calm"]
PREVIEW = "previews/gallery-bench.wav"


def _wav(seconds=1.0, rate=16000):
    import struct

    frames = int(seconds * rate)
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + frames * 2)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    )
    return header + b"data" + struct.pack("<I", frames * 2) + b"\0\0" * frames


class Command(BaseCommand):
    help = "Create COUNT public, ready clones for the gallery benchmark (nothing at the provider)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1_000_000)
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=21)

    def handle(self, *, count, batch, seed, **options):
        rng = random.Random(seed)
        owner, _ = get_user_model().objects.get_or_create(username="gallery-bench", defaults={"is_active": False})
        tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
        if not default_storage.exists(PREVIEW):
            default_storage.save(PREVIEW, ContentFile(_wav()))
        through = Clone.tags.through
        if connection.vendor == "postgresql":
            return self._make_in_postgresql(count, batch, owner, tags)
        # created_at is auto_now_add; the rows get times a second apart instead, as real ones would have.
        field = Clone._meta.get_field("created_at")
        field.auto_now_add = False
        try:
            self._make(count, batch, rng, owner, tags, through)
        finally:
            field.auto_now_add = True

    def _make(self, count, batch, rng, owner, tags, through):
        start = timezone.now() - timedelta(seconds=count)
        made = 0
        while made < count:
            rows = []
            for n in range(made, min(count, made + batch)):
                if n % 3 == 0:
                    name, language = f"{rng.choice(CHINESE)}{n}", Clone.Language.CHINESE
                else:
                    name, language = f"{rng.choice(ENGLISH)} {rng.choice(ROLES)} {n}", Clone.Language.ENGLISH
                rows.append(
                    Clone(
                        uuid=uuid.uuid4(),
                        owner=owner,
                        name=name,
                        language=language,
                        visibility=Clone.Visibility.PUBLIC,
                        status=Clone.Status.READY,
                        provider_model="glm-tts-clone",
                        preview_text="Hello.",
                        voice_id=f"bench-{n}",
                        preview_audio=PREVIEW,
                        sample_format="wav",
                        created_at=start + timedelta(seconds=n),
                        finished_at=start + timedelta(seconds=n),
                    )
                )
            with transaction.atomic():
                created = Clone.objects.bulk_create(rows)
                through.objects.bulk_create(
                    [
                        through(clone_id=clone.pk, tag_id=tags[(made + offset) // 10 % len(tags)].pk)
                        for offset, clone in enumerate(created)
                        if (made + offset) % 10 == 0
                    ]
                )
            made += len(rows)
            self.stdout.write(f"{made} / {count}")
        self.stdout.write(self.style.SUCCESS(f"{made} public clones made"))

    def _make_in_postgresql(self, count, batch, owner, tags):
        """The same rows, made by the database itself from generate_series: minutes instead of an hour."""
        start = timezone.now() - timedelta(seconds=count)
        first = Clone.objects.count()
        chunk = max(batch, 100_000)
        with connection.cursor() as cursor:
            for low in range(first, first + count, chunk):
                high = min(first + count, low + chunk) - 1
                cursor.execute(
                    """
                    INSERT INTO clones_clone (uuid, name, voice_name, provider_model, sample, sample_format,
                        transcript, preview_text, sample_file_id, voice_id, preview_file_id, preview_audio, status,
                        error_kind, error_code, error_message, request_id, attempts, created_at, updated_at,
                        finished_at, language, owner_id, share_token, visibility, allow_public_speech, original,
                        preview_peaks, sample_peaks, preview_route, failure_message, preview_duration)
                    SELECT md5(n::text || 'uuid')::uuid,
                        CASE WHEN n %% 3 = 0 THEN (%(chinese)s::text[])[1 + (n * 7) %% 8] || n
                             ELSE (%(english)s::text[])[1 + (n * 13) %% 10] || ' '
                                  || (%(roles)s::text[])[1 + (n * 17) %% 8] || ' ' || n END,
                        'vc_bench_' || n, 'glm-tts-clone', '', 'wav', '', 'Hello.', '', 'bench-' || n, '',
                        %(preview)s, 'ready', '', '', '', '', 0,
                        %(start)s + n * interval '1 second', now(), %(start)s + n * interval '1 second',
                        CASE WHEN n %% 3 = 0 THEN 'zh' ELSE 'en' END, %(owner)s,
                        md5(n::text || 'share') || md5(n::text || 'token'), 'public', false, '', '[]', '[]',
                        'download_url', '', 2.0
                    FROM generate_series(%(low)s, %(high)s) AS n
                    """,
                    {"chinese": CHINESE, "english": ENGLISH, "roles": ROLES, "preview": PREVIEW, "start": start,
                     "owner": owner.pk, "low": low, "high": high},
                )  # fmt: skip
                self.stdout.write(f"{high + 1 - first} / {count}")
            cursor.execute(
                "INSERT INTO clones_clone_tags (clone_id, tag_id) SELECT id, (%s::bigint[])[1 + (id / 10) %% 8] "
                "FROM clones_clone WHERE owner_id = %s AND id %% 10 = 0 ON CONFLICT DO NOTHING",
                [[tag.pk for tag in tags], owner.pk],
            )
            cursor.execute("ANALYZE clones_clone")
            cursor.execute("ANALYZE clones_clone_tags")
        self.stdout.write(self.style.SUCCESS(f"{count} public clones made"))
