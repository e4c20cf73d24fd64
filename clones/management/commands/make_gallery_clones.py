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
from django.db import transaction
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
