import logging
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction

from accounts.models import billing
from clones import bigmodel, leases
from clones.pipeline import provider_client
from clones.tasks import retry_delay
from transcripts.models import Transcription

logger = logging.getLogger(__name__)


def enqueue_transcription(transcription):
    transaction.on_commit(partial(transcribe.delay, transcription.pk))


@shared_task(bind=True, max_retries=None)
def transcribe(self, transcription_id):
    transcription = Transcription.objects.filter(pk=transcription_id).first()
    if transcription is None or not transcription.claim():
        return
    try:
        with (
            leases.kept_alive(Transcription, transcription.pk),
            provider_client() as client,
            bigmodel.log_context(transcription=transcription.pk),
            billing(transcription.owner_id, f"transcription:{transcription.pk}"),
            transcription.sample.open("rb") as sample,
        ):
            text = client.transcribe(sample, "sample.wav")
    except bigmodel.TransientError as exc:
        if self.request.retries >= settings.CLONE_MAX_RETRIES:
            transcription.fail(exc)
            return
        transcription.release()
        raise self.retry(countdown=retry_delay(self.request.retries, exc.retry_after)) from exc
    except Exception as exc:
        if not isinstance(exc, bigmodel.BigModelError):
            logger.exception("transcription=%s failed unexpectedly", transcription_id)
        transcription.fail(exc)
        return
    transcription.finish(text)


@shared_task
def sweep_abandoned():
    """Run by Celery beat with the clones' sweep: queue again what a dead worker or a lost message left
    behind."""
    count = 0
    for transcription in Transcription.objects.abandoned():
        if transcription.attempts > settings.CLONE_MAX_RETRIES:
            transcription.fail(bigmodel.ServerError(f"Gave up after {transcription.attempts} attempts"))
        else:
            transcription.release()  # queued, unheld: its new message can take it
            enqueue_transcription(transcription)
        count += 1
    return count
