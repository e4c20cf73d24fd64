import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError

from clones.audio import AudioError, decode_mono
from clones.models import Clone
from lab import similarity
from lab.models import SimilarityScore

logger = logging.getLogger(__name__)


def measure(clone):
    """Score the clone's preview against its sample and store it; None when it cannot be measured."""
    if not (clone.sample and clone.preview_audio) or not similarity.is_available():
        return None
    started = time.monotonic()
    with clone.sample.open("rb") as file:
        sample = decode_mono(file.read(), rate=similarity.RATE).astype("float32") / 32768
    with clone.preview_audio.open("rb") as file:
        preview = decode_mono(file.read(), rate=similarity.RATE).astype("float32") / 32768
    score = similarity.similarity((sample, similarity.RATE), (preview, similarity.RATE))
    try:
        row, _created = SimilarityScore.objects.update_or_create(
            clone=clone,
            defaults={"score": score, "model": similarity.MODEL_NAME, "seconds": round(time.monotonic() - started, 3)},
        )
    except IntegrityError:
        return None  # the clone was deleted while it was being measured
    return row


@shared_task
def score_clone(clone_id):
    if not settings.LAB_SIMILARITY:
        return
    clone = Clone.objects.filter(pk=clone_id, status=Clone.Status.READY).first()
    if clone is None or SimilarityScore.objects.filter(clone=clone).exists():
        return
    try:
        row = measure(clone)
    except AudioError:
        logger.warning("similarity_unreadable clone=%s", clone_id)
        return
    if row:
        logger.info("similarity_scored clone=%s score=%.3f seconds=%.2f", clone_id, row.score, row.seconds)
