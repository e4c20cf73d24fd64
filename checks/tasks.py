"""The check of a take or of one-off speech, as a Celery task of its own: queued the moment the speech
is made, so checks run alongside the synthesis of other lines rather than after everything.

The task holds a lease on the take while it hears it (a redelivered message finds it held and leaves
it), charges each recognizer call before it is made, and retries transient provider errors with the
clones' backoff. A take that differs is made again, up to CHECK_MAX_RETRIES times for a line as it
reads now, unless the owner chose a take by hand; every take is kept and the best one chosen.

One-off speech (clones.models.Utterance) is checked the same way when its owner checks speech. When it
differs, `redo_utterance` speaks it again and hears the new attempt, up to CHECK_MAX_RETRIES times;
every attempt is recorded (checks.models.UtteranceAttempt) and the best one kept as the utterance's.
"""

import logging
from datetime import timedelta
from functools import partial

from celery import current_app, shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import QuotaExceeded, Usage, billing, charge
from checks.compare import best_comparison
from checks.hearing import hear
from checks.models import HeardBack, UtteranceAttempt
from clones import bigmodel, leases, pipeline
from clones.models import Utterance
from clones.tasks import retry_delay
from studio.models import Line, Take
from studio.script import spoken_text

logger = logging.getLogger(__name__)


def queue_check(take):
    """Send a take marked to be checked (studio.takes.speak marks it) to a worker once the transaction commits."""
    transaction.on_commit(partial(check_take.delay, take.pk))


def expected_texts(take):
    """What the take may be heard to say: its text, and the text as sent where a pronunciation rule
    rewrote it (a pure respelling is heard as the original; a spelled-out acronym as what was sent)."""
    return [spoken_text(take.text), spoken_text(take.sent_text or take.text)]


@shared_task(bind=True, max_retries=None)
def check_take(self, take_id):
    take = Take.objects.select_related("line__project__owner").filter(pk=take_id).first()
    if take is None or not take.claim_check():
        return
    owner = take.line.project.owner
    try:
        with take.audio.open("rb") as audio:
            data = audio.read()
        with (
            leases.kept_alive(Take, take.pk),
            billing(owner.pk, f"check:take:{take.pk}"),
            pipeline.recognizer_client() as client,
            bigmodel.log_context(take=take.pk, check=True),
        ):
            heard = hear(data, owner, client, on_call=take.count_check_call, duration=take.duration)
    except bigmodel.TransientError as exc:
        if self.request.retries >= settings.CLONE_MAX_RETRIES:
            take.check_failed(str(exc))
            take.line.choose_best()
            return
        Take.objects.filter(pk=take.pk).update(check_status=Take.Check.PENDING, lease_expires_at=None)
        raise self.retry(countdown=retry_delay(self.request.retries, exc.retry_after)) from exc
    except QuotaExceeded as exc:
        take.check_failed(str(exc))
        take.line.choose_best()
        return
    except bigmodel.BigModelError as exc:
        take.check_failed(exc.message or str(exc))
        take.line.choose_best()
        return
    except Exception:
        logger.exception("check of take=%s failed unexpectedly", take_id)
        take.check_failed(_("Something went wrong on our side. The site's staff have been told."))
        return
    with transaction.atomic():  # a take that differs and its retry are seen together
        take.record_check(best_comparison(expected_texts(take), heard))
        settle(take)


def settle(take):
    """After a check: make the line again if the take differs and retries are left; choose the best take."""
    with transaction.atomic():
        line = Line.objects.select_for_update().select_related("project").get(pk=take.line_id)
        line.choose_best()
        if take.check_status != Take.Check.DIFFERS or take.revision != line.revision or line.chosen_by_owner:
            return
        if not line.project.check_speech:
            return
        takes = line.takes.filter(revision=line.revision)
        if takes.filter(status__in=Take.PENDING).exists():
            return  # a take is already on its way
        if takes.filter(check_status__in=(Take.Check.PASSED, Take.Check.ACCEPTED)).exists():
            return
        retries = takes.filter(auto_retry__gt=0).count()
        if retries >= settings.CHECK_MAX_RETRIES:
            return
        retry = line.new_take(auto_retry=retries + 1)
        # By name: studio.tasks imports this module to queue checks, so this one cannot import it back.
        transaction.on_commit(partial(current_app.send_task, "studio.tasks.generate_take", args=[retry.pk]))


@shared_task
def sweep_stuck_checks():
    """Run by Celery beat: checks a dead worker left behind are queued again."""
    now = timezone.now()
    # A check whose worker died (its lease ran out unrenewed), or one nobody took for STUCK_AFTER_SECONDS.
    quiet = Q(lease_expires_at__isnull=True, updated_at__lt=now - timedelta(seconds=settings.STUCK_AFTER_SECONDS))
    stuck = Take.objects.filter(status=Take.Status.READY, check_status__in=Take.CHECK_PENDING).filter(
        leases.lapsed(now) | quiet
    )
    count = 0
    for take in stuck:
        if take.check_attempts > settings.CLONE_MAX_RETRIES:
            take.check_failed(_("The check gave up after %(n)d attempts.") % {"n": take.check_attempts})
            continue
        Take.objects.filter(pk=take.pk).update(lease_expires_at=None, updated_at=now)  # not swept twice
        transaction.on_commit(partial(check_take.delay, take.pk))
        count += 1
    count += sweep_stuck_utterances(now)
    if count:
        logger.warning("checks sweep takes=%d", count)
    return count


def sweep_stuck_utterances(now):
    """One-off speech whose check or new attempt a dead worker left: its message sent again (the claims
    make a message that was only late harmless)."""
    # An utterance keeps no time of its last change: one nobody took is found STUCK_AFTER_SECONDS after
    # its last check, or after it was made.
    moved = Coalesce("checked_at", "finished_at")
    quiet = Q(lease_expires_at__isnull=True, moved__lt=now - timedelta(seconds=settings.STUCK_AFTER_SECONDS))
    stuck = (
        Utterance.objects.alias(moved=moved)
        .filter(status=Utterance.Status.READY, check_status__in=HeardBack.CHECK_BUSY)
        .filter(leases.lapsed(now) | quiet)
    )
    count = 0
    for utterance in stuck:
        if utterance.check_status == HeardBack.Check.REDOING:
            Utterance.objects.filter(pk=utterance.pk).update(lease_expires_at=None)
            transaction.on_commit(partial(redo_utterance.delay, utterance.pk))
        elif utterance.check_attempts > settings.CLONE_MAX_RETRIES + settings.CHECK_MAX_RETRIES:
            utterance.check_failed(_("The check gave up after %(n)d attempts.") % {"n": utterance.check_attempts})
            continue
        else:
            Utterance.objects.filter(pk=utterance.pk).update(lease_expires_at=None)
            transaction.on_commit(partial(check_utterance.delay, utterance.pk))
        count += 1
    return count


# -- one-off speech --------------------------------------------------------------------------------


def utterance_texts(utterance):
    """What one-off speech may be heard to say: its text, or the text as sent (see expected_texts)."""
    return [utterance.text, utterance.sent_text or utterance.text]


def _hear_file(field, duration, owner, on_call):
    with field.open("rb") as audio:
        data = audio.read()
    with pipeline.recognizer_client() as client:
        return hear(data, owner, client, on_call=on_call, duration=duration)


@shared_task(bind=True, max_retries=None)
def check_utterance(self, utterance_id):
    """One-off speech heard back once it is made (queued by clones.tasks.queue_check); spoken again if it differs."""
    utterance = Utterance.objects.select_related("owner").filter(pk=utterance_id).first()
    if utterance is None or not utterance.claim_check():
        return
    try:
        with (
            leases.kept_alive(Utterance, utterance.pk),
            billing(utterance.owner_id, f"check:utterance:{utterance.pk}"),
            bigmodel.log_context(utterance=utterance.pk, check=True),
        ):
            heard = _hear_file(utterance.audio, utterance.duration, utterance.owner, utterance.count_check_call)
    except bigmodel.TransientError as exc:
        if self.request.retries >= settings.CLONE_MAX_RETRIES:
            utterance.check_failed(str(exc))
            return
        Utterance.objects.filter(pk=utterance.pk).update(check_status=HeardBack.Check.PENDING, lease_expires_at=None)
        raise self.retry(countdown=retry_delay(self.request.retries, exc.retry_after)) from exc
    except QuotaExceeded as exc:
        utterance.check_failed(str(exc))
        return
    except bigmodel.BigModelError as exc:
        utterance.check_failed(exc.message or str(exc))
        return
    except Exception:
        logger.exception("check of utterance=%s failed unexpectedly", utterance_id)
        utterance.check_failed(_("Something went wrong on our side. The site's staff have been told."))
        return
    comparison = best_comparison(utterance_texts(utterance), heard)
    with transaction.atomic():
        utterance.record_check(comparison)
        # The speech as first made is the first attempt, and the one kept until a better one is made.
        first = UtteranceAttempt(
            utterance=utterance,
            number=1,
            kept=True,
            sent_text=utterance.sent_text,
            duration=utterance.duration,
            provider_calls=utterance.parts,
            check_calls=utterance.check_calls,
            check_attempts=utterance.check_attempts,
        )
        first.take_check_from(comparison)
        UtteranceAttempt.objects.filter(utterance=utterance, number=1).delete()  # a check made again
        first.save()
        settle_utterance(utterance)


def settle_utterance(utterance):
    """After a check: speak it again if it differs, its owner checks it, and retries are left."""
    if utterance.check_status != HeardBack.Check.DIFFERS or not utterance.check_requested:
        return
    if utterance.speech_attempts.count() > settings.CHECK_MAX_RETRIES:
        return
    if Utterance.objects.filter(pk=utterance.pk, check_status=HeardBack.Check.DIFFERS).update(
        check_status=HeardBack.Check.REDOING
    ):
        utterance.check_status = HeardBack.Check.REDOING
        transaction.on_commit(partial(redo_utterance.delay, utterance.pk))


def _next_attempt(utterance):
    """The attempt being made: one left unfinished by an earlier run of the task, or a new one, charged
    to the owner's speech quota as it is made (raises QuotaExceeded, and then there is none)."""
    unfinished = utterance.speech_attempts.filter(check_status="").first()
    if unfinished is not None:
        return unfinished
    with transaction.atomic():
        charge(utterance.owner, Usage.Kind.SPEECH_CHARS, len(utterance.text), per_minute=False)
        number = utterance.speech_attempts.count() + 1
        return UtteranceAttempt.objects.create(utterance=utterance, number=number, sent_text=utterance.sent_text)


def _give_up_redo(utterance, attempt, message):
    """No better attempt could be made: the utterance stays as it was (differing), and says why."""
    if attempt is not None:
        pipeline.delete_attempt_parts(utterance, attempt)
        if attempt.audio:
            attempt.audio.delete(save=False)
        attempt.check_status, attempt.check_error = HeardBack.Check.FAILED, message
        attempt.save(update_fields=["audio", "check_status", "check_error"])
    Utterance.objects.filter(pk=utterance.pk, check_status=HeardBack.Check.REDOING).update(
        check_status=HeardBack.Check.DIFFERS, check_error=message, lease_expires_at=None
    )


@shared_task(bind=True, max_retries=None)
def redo_utterance(self, utterance_id):
    """Speak one-off speech that differs again (a new provider call, charged) and hear the new attempt;
    keep whichever attempt is best, and go on while it differs and retries are left."""
    utterance = Utterance.objects.select_related("owner", "clone").filter(pk=utterance_id).first()
    if utterance is None or not utterance.claim_redo():
        return
    attempt = None

    def counted():
        attempt.count_check_call()
        utterance.count_check_call()

    try:
        with (
            leases.kept_alive(Utterance, utterance.pk),
            billing(utterance.owner_id, f"utterance:{utterance.pk}"),
            bigmodel.log_context(utterance=utterance.pk, attempt=True),
        ):
            clone = utterance.clone
            if clone is not None and (clone.deletion_requested_at or not clone.can_speak(utterance.owner)):
                raise VoiceGone(_("The voice “%(name)s” can no longer be used.") % {"name": clone.name})
            attempt = _next_attempt(utterance)
            if not attempt.audio:
                with pipeline.provider_client() as client:
                    pipeline.speak_again(utterance, attempt, client)
            heard = _hear_file(attempt.audio, attempt.duration, utterance.owner, counted)
    except bigmodel.TransientError as exc:
        if self.request.retries >= settings.CLONE_MAX_RETRIES:
            _give_up_redo(utterance, attempt, str(exc))
            return
        Utterance.objects.filter(pk=utterance.pk).update(lease_expires_at=None)
        raise self.retry(countdown=retry_delay(self.request.retries, exc.retry_after)) from exc
    except (QuotaExceeded, VoiceGone) as exc:
        _give_up_redo(utterance, attempt, str(exc))
        return
    except bigmodel.BigModelError as exc:
        _give_up_redo(utterance, attempt, exc.message or str(exc))
        return
    except Exception:
        logger.exception("new attempt at utterance=%s failed unexpectedly", utterance_id)
        _give_up_redo(utterance, attempt, _("Something went wrong on our side. The site's staff have been told."))
        return
    attempt.take_check_from(best_comparison(utterance_texts(utterance), heard))
    attempt.check_attempts += 1
    with transaction.atomic():
        keep_best(utterance, attempt)
        Utterance.objects.filter(pk=utterance.pk).update(lease_expires_at=None)
        utterance.lease_expires_at = None
        settle_utterance(utterance)


def keep_best(utterance, attempt):
    """The new attempt becomes the utterance's speech if it is at least as good as the one kept (the
    newest among equals, as the studio chooses); the losing audio is deleted once this commits."""
    kept = utterance.speech_attempts.filter(kept=True).exclude(pk=attempt.pk).first()
    if kept is None or attempt.check_rank() <= kept.check_rank():
        old = utterance.audio.name
        utterance.keep_attempt(attempt)
        if kept is not None:
            kept.kept = False
            kept.save(update_fields=["kept"])
        attempt.kept, loser = True, old
        attempt.audio.name = ""  # the file is the utterance's now
    else:
        attempt.kept, loser = False, attempt.audio.name
        attempt.audio.name = ""
        utterance.check_status = kept.check_status  # no longer being spoken again: as the kept attempt
        utterance.save(update_fields=["check_status"])
    attempt.save()
    storage = utterance.audio.storage
    if loser:
        transaction.on_commit(partial(storage.delete, loser))


class VoiceGone(Exception):
    """The utterance's clone may no longer be spoken with (deleted, made private, gone at the provider)."""
