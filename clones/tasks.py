import logging
import random
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import billing
from clones import bigmodel
from clones.models import Clone, Utterance

logger = logging.getLogger(__name__)


def retry_delay(retries, retry_after=None):
    """Exponential backoff with jitter, never sooner than the provider's Retry-After."""
    ceiling = min(settings.CLONE_RETRY_MAX_DELAY, settings.CLONE_RETRY_BASE_DELAY * 2**retries)
    return max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling))


@shared_task(bind=True, max_retries=None)
def process_clone(self, clone_id):
    clone = Clone.objects.filter(pk=clone_id).first()
    if clone is None or not clone.claim():
        return  # gone, finished, or another worker holds it
    try:
        with (
            bigmodel.BigModelClient.from_settings() as client,
            bigmodel.log_context(clone=clone.pk),
            billing(clone.owner_id, f"clone:{clone.pk}"),
        ):
            try:
                clone.process(client)
            except bigmodel.PermanentError:
                # An earlier, timed-out clone call may have made the voice: never fail with one paid for.
                if not clone.adopt_late_voice(client):
                    raise
                clone.process(client)
        return
    except bigmodel.TransientError as exc:
        error = exc
    except bigmodel.BigModelError as exc:
        clone.fail(exc)
        return
    except Exception as exc:
        logger.exception("clone=%s failed unexpectedly", clone_id)
        clone.fail(exc)
        return
    finally:
        clone.release()

    if self.request.retries >= settings.CLONE_MAX_RETRIES:
        clone.fail(error)
        return
    clone.note_retry(error)
    raise self.retry(countdown=retry_delay(self.request.retries, error.retry_after))


@shared_task(bind=True, max_retries=None)
def delete_clone(self, clone_id):
    """Delete the provider voice, then our row and files. Never leaves a voice billing on its own."""
    clone = Clone.objects.filter(pk=clone_id).first()
    if clone is None:
        return
    if not clone.claim(for_deletion=True):
        # The pipeline is still working on it: come back once its lease can have ended.
        raise self.retry(countdown=retry_delay(min(self.request.retries, 3)))
    try:
        with (
            bigmodel.BigModelClient.from_settings() as client,
            bigmodel.log_context(clone=clone.pk),
            billing(clone.owner_id, f"clone:{clone.pk}"),
        ):
            clone.delete_at_provider(client)
    except bigmodel.BigModelError as exc:
        clone.release()
        clone.note_retry(exc)
        # The clone stays "deletion pending" and keeps being retried, transient or not.
        raise self.retry(countdown=retry_delay(min(self.request.retries, 8), exc.retry_after)) from exc
    clone.delete_with_files()


@shared_task(bind=True, max_retries=None)
def synthesize_utterance(self, utterance_id):
    utterance = Utterance.objects.select_related("clone").filter(pk=utterance_id).first()
    if utterance is None or not utterance.claim():
        return
    try:
        with (
            bigmodel.BigModelClient.from_settings() as client,
            bigmodel.log_context(utterance=utterance.pk),
            billing(utterance.owner_id, f"utterance:{utterance.pk}"),
        ):
            utterance.synthesize(client)
    except bigmodel.TransientError as exc:
        if self.request.retries >= settings.CLONE_MAX_RETRIES:
            utterance.fail(exc)
            return
        utterance.requeue(exc)
        raise self.retry(countdown=retry_delay(self.request.retries, exc.retry_after)) from exc
    except Exception as exc:
        if not isinstance(exc, bigmodel.BigModelError):
            logger.exception("utterance=%s failed unexpectedly", utterance_id)
        utterance.fail(exc)


@shared_task
def sweep_stuck_work():
    """Run by Celery beat: nothing stays half-done because a worker died or a message was lost."""
    counts = {"requeued": 0, "failed": 0, "late voices": 0, "deletions": 0, "utterances": 0}
    for clone in Clone.objects.stuck():
        with transaction.atomic():
            counts[clone.sweep()] += 1
    for clone in Clone.objects.may_have_late_voice():
        counts["late voices"] += check_late_voice(clone)
    for clone in Clone.objects.deletion_stuck():
        transaction.on_commit(lambda pk=clone.pk: delete_clone.delay(pk))
        counts["deletions"] += 1
    cutoff = timezone.now() - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    for utterance in Utterance.objects.filter(status__in=["queued", "speaking"], created_at__lt=cutoff):
        with transaction.atomic():
            Utterance.objects.filter(pk=utterance.pk).update(status=Utterance.Status.QUEUED)
            utterance.enqueue()
        counts["utterances"] += 1
    from transcripts.tasks import sweep_abandoned  # transcripts' tasks import this module

    counts["transcriptions"] = sweep_abandoned()
    if any(counts.values()):
        logger.warning("sweep %s", " ".join(f"{k.replace(' ', '_')}={v}" for k, v in counts.items()))
    return counts


def check_late_voice(clone):
    """Once, when a failed clone's slow calls must have settled: a voice that turned up after all is
    adopted and the clone finished, rather than left to cost the account with nobody owning it."""
    clone.late_voice_checked_at = timezone.now()
    clone.save(update_fields=["late_voice_checked_at", "updated_at"])
    try:
        with (
            bigmodel.BigModelClient.from_settings() as client,
            bigmodel.log_context(clone=clone.pk),
            billing(clone.owner_id, f"clone:{clone.pk}"),
        ):
            if not clone.adopt_late_voice(client):
                return 0
    except bigmodel.BigModelError:
        logger.warning("clone=%s late voice check failed; reconcile_voices will list it", clone.pk)
        return 0
    clone.retry()  # the pipeline skips to the preview
    return 1
