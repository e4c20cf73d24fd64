"""Queuing, in one place: what puts a clone or an utterance in line for a worker, and the Celery tasks
that take them off it.

A submission (clones.submissions), a retry, a re-fetched preview or a deletion request calls one of
the functions at the top; each sends its task's id with `transaction.on_commit`, so no worker sees a
row before it is saved. The tasks run the provider steps of clones.pipeline under a clone's lease and
retry what the provider failed at for a while (clones.bigmodel says which errors are worth it).
"""

import logging
import random
from functools import partial

from celery import current_app, shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import billing
from clones import bigmodel, leases, pipeline
from clones.models import Clone, Utterance, utterances_to_sweep

logger = logging.getLogger(__name__)


# -- putting work in line --------------------------------------------------------------------------


def enqueue_clone(clone):
    transaction.on_commit(partial(process_clone.delay, clone.pk))


def enqueue_utterance(utterance):
    transaction.on_commit(partial(synthesize_utterance.delay, utterance.pk))


def queue_check(utterance):
    """Speech just made is heard back when its owner checks speech (Utterance.mark_ready and
    finish_stream mark it). By name: the checks app's tasks import this module."""
    if utterance.check_status == Utterance.Check.PENDING:
        send = partial(current_app.send_task, "checks.tasks.check_utterance", args=[utterance.pk], queue="checks")
        transaction.on_commit(send)


def finish_broken_stream(utterance, error):
    """A streamed utterance that broke (clones.streaming) is spoken whole by a worker and stored as any
    other, without a second charge; one the provider refused for good fails at once instead."""
    if isinstance(error, bigmodel.PermanentError):
        pipeline.fail_utterance(utterance, error)
    elif utterance.hand_to_queue(error):
        enqueue_utterance(utterance)


def retry_clone(clone, *changed_fields):
    """Send the clone through the pipeline again; steps that have their result are skipped."""
    clone.reset_for_retry(*changed_fields)
    enqueue_clone(clone)


def refetch_preview(clone):
    """Fetch a ready clone's preview again, by every route (the owner's "try again", the admin's action)."""
    clone.preview_audio.delete(save=False)
    clone.preview_route = ""
    retry_clone(clone, "preview_audio", "preview_route")


def request_deletion(clone):
    """The clone disappears for its owner at once; the task deletes the provider voice, then our row."""
    clone.mark_deletion_requested()
    transaction.on_commit(partial(delete_clone.delay, clone.pk))


def retry_delay(retries, retry_after=None):
    """Exponential backoff with jitter, never sooner than the provider's Retry-After."""
    ceiling = min(settings.CLONE_RETRY_MAX_DELAY, settings.CLONE_RETRY_BASE_DELAY * 2**retries)
    return max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling))


# -- the tasks -------------------------------------------------------------------------------------


@shared_task(bind=True, max_retries=None)
def process_clone(self, clone_id):
    clone = Clone.objects.filter(pk=clone_id).first()
    if clone is None or not clone.claim():
        return  # gone, finished, or another worker holds it
    try:
        with (
            leases.kept_alive(Clone, clone.pk),
            pipeline.provider_client() as client,
            bigmodel.log_context(clone=clone.pk),
            billing(clone.owner_id, f"clone:{clone.pk}"),
        ):
            try:
                pipeline.process(clone, client)
            except bigmodel.PermanentError:
                # An earlier, timed-out clone call may have made the voice: never fail with one paid for.
                if not pipeline.adopt_late_voice(clone, client):
                    raise
                pipeline.process(clone, client)
        return
    except bigmodel.TransientError as exc:
        error = exc
    except bigmodel.BigModelError as exc:
        pipeline.fail(clone, exc)
        return
    except Exception as exc:
        logger.exception("clone=%s failed unexpectedly", clone_id)
        pipeline.fail(clone, exc)
        return
    finally:
        clone.release()

    if self.request.retries >= settings.CLONE_MAX_RETRIES:
        pipeline.fail(clone, error)
        return
    countdown = retry_delay(self.request.retries, error.retry_after)
    clone.note_retry(error, countdown)
    raise self.retry(countdown=countdown)


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
            leases.kept_alive(Clone, clone.pk),
            pipeline.provider_client() as client,
            bigmodel.log_context(clone=clone.pk),
            billing(clone.owner_id, f"clone:{clone.pk}"),
        ):
            pipeline.delete_at_provider(clone, client)
    except bigmodel.BigModelError as exc:
        clone.release()
        countdown = retry_delay(min(self.request.retries, 8), exc.retry_after)
        clone.note_retry(exc, countdown)
        # The clone stays "deletion pending" and keeps being retried, transient or not.
        raise self.retry(countdown=countdown) from exc
    clone.delete_with_files()


@shared_task(bind=True, max_retries=None)
def synthesize_utterance(self, utterance_id):
    utterance = Utterance.objects.select_related("clone").filter(pk=utterance_id).first()
    if utterance is None or not utterance.claim():
        return
    try:
        with (
            leases.kept_alive(Utterance, utterance.pk),
            pipeline.provider_client() as client,
            bigmodel.log_context(utterance=utterance.pk),
            billing(utterance.owner_id, f"utterance:{utterance.pk}"),
        ):
            pipeline.synthesize(utterance, client)
        queue_check(utterance)
    except bigmodel.TransientError as exc:
        if self.request.retries >= settings.CLONE_MAX_RETRIES:
            pipeline.fail_utterance(utterance, exc)
            return
        countdown = retry_delay(self.request.retries, exc.retry_after)
        utterance.requeue(exc, countdown)
        raise self.retry(countdown=countdown) from exc
    except Exception as exc:
        if not isinstance(exc, bigmodel.BigModelError):
            logger.exception("utterance=%s failed unexpectedly", utterance_id)
        pipeline.fail_utterance(utterance, exc)


# -- the sweep: nothing stays half-done ------------------------------------------------------------


@shared_task
def sweep_stuck_work():
    """Run by Celery beat: nothing stays half-done because a worker died or a message was lost."""
    counts = {"requeued": 0, "failed": 0, "late voices": 0, "deletions": 0, "utterances": 0}
    for clone in Clone.objects.stuck():
        with transaction.atomic():
            counts[sweep_clone(clone)] += 1
    for clone in Clone.objects.may_have_late_voice():
        counts["late voices"] += check_late_voice(clone)
    for clone in Clone.objects.deletion_stuck():
        transaction.on_commit(partial(delete_clone.delay, clone.pk))
        counts["deletions"] += 1
    # Only work whose lease ran out (its worker or stream died) or that nobody took: one being spoken is
    # never sent twice.
    for utterance in utterances_to_sweep():
        with transaction.atomic():
            utterance.mark_swept()
            enqueue_utterance(utterance)
        counts["utterances"] += 1
    if any(counts.values()):
        logger.warning("sweep %s", " ".join(f"{k.replace(' ', '_')}={v}" for k, v in counts.items()))
    return counts


def sweep_clone(clone):
    """Queue a lost clone again, or fail it once it has used up its attempts."""
    if clone.attempts > settings.CLONE_MAX_RETRIES:
        pipeline.fail(clone, bigmodel.ServerError(f"Gave up after {clone.attempts} attempts"))
        return "failed"
    # Not swept again before its new message had a chance to run: no lease, and moved just now.
    Clone.objects.filter(pk=clone.pk).update(lease_expires_at=None, updated_at=timezone.now())
    enqueue_clone(clone)
    return "requeued"


def check_late_voice(clone):
    """Once, when a failed clone's slow calls must have settled: a voice that turned up after all is
    adopted and the clone finished, rather than left to cost the account with nobody owning it."""
    clone.late_voice_checked_at = timezone.now()
    clone.save(update_fields=["late_voice_checked_at", "updated_at"])
    try:
        with (
            pipeline.provider_client() as client,
            bigmodel.log_context(clone=clone.pk),
            billing(clone.owner_id, f"clone:{clone.pk}"),
        ):
            if not pipeline.adopt_late_voice(clone, client):
                return 0
    except bigmodel.BigModelError:
        logger.warning("clone=%s late voice check failed; reconcile_voices will list it", clone.pk)
        return 0
    retry_clone(clone)  # the pipeline skips to the preview
    return 1


@shared_task
def refresh_system_voices():
    """Run by Celery beat and by check_provider: the provider's system voices into the shared cache,
    so that pages offer them without calling the provider. A failure leaves the cached or built-in list."""
    from clones import system_voices

    try:
        with pipeline.provider_client() as client:
            return len(system_voices.refresh(client))
    except bigmodel.BigModelError as exc:
        logger.warning("system voices not refreshed: %s", exc)
        return 0
