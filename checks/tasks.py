"""The check of a take, as a Celery task of its own: queued the moment a take is made, so checks run
alongside the synthesis of other lines rather than after everything.

The task holds a lease on the take while it hears it (a redelivered message finds it held and leaves
it), charges each recognizer call before it is made, and retries transient provider errors with the
clones' backoff. A take that differs is made again, up to CHECK_MAX_RETRIES times for a line as it
reads now, unless the owner chose a take by hand; every take is kept and the best one chosen.
"""

import logging
from datetime import timedelta
from functools import partial

from celery import current_app, shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import QuotaExceeded, billing
from checks.compare import best_comparison
from checks.hearing import hear
from clones import bigmodel, pipeline
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

    def counted():
        take.check_calls += 1
        Take.objects.filter(pk=take.pk).update(check_calls=take.check_calls)

    try:
        with take.audio.open("rb") as audio:
            data = audio.read()
        with (
            billing(owner.pk, f"check:take:{take.pk}"),
            pipeline.recognizer_client() as client,
            bigmodel.log_context(take=take.pk, check=True),
        ):
            heard = hear(data, owner, client, on_call=counted, duration=take.duration)
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
    stuck = Take.objects.filter(status=Take.Status.READY, check_status__in=Take.CHECK_PENDING).exclude(
        lease_expires_at__gt=now
    )
    stuck = stuck.filter(updated_at__lt=now - timedelta(seconds=settings.STUCK_AFTER_SECONDS))
    count = 0
    for take in stuck:
        if take.check_attempts > settings.CLONE_MAX_RETRIES:
            take.check_failed(_("The check gave up after %(n)d attempts.") % {"n": take.check_attempts})
            continue
        transaction.on_commit(partial(check_take.delay, take.pk))
        count += 1
    if count:
        logger.warning("checks sweep takes=%d", count)
    return count


@shared_task(bind=True, max_retries=None)
def check_utterance(self, utterance_id):
    """One-off speech heard back when its owner asked for it: the result is shown, nothing is redone."""
    now = timezone.now()
    claimed = (
        Utterance.objects.filter(pk=utterance_id, status=Utterance.Status.READY, check_status__in=Take.CHECK_PENDING)
        .filter(Q(check_lease_expires_at__isnull=True) | Q(check_lease_expires_at__lt=now))
        .update(check_status=Take.Check.CHECKING,
                check_lease_expires_at=now + timedelta(seconds=settings.CLONE_LEASE_SECONDS))
    )  # fmt: skip
    utterance = Utterance.objects.select_related("owner").filter(pk=utterance_id).first()
    if not claimed or utterance is None:
        return
    done = Utterance.objects.filter(pk=utterance_id)
    try:
        with utterance.audio.open("rb") as audio:
            data = audio.read()
        with (
            billing(utterance.owner_id, f"check:utterance:{utterance.pk}"),
            pipeline.recognizer_client() as client,
            bigmodel.log_context(utterance=utterance.pk, check=True),
        ):
            heard = hear(data, utterance.owner, client, duration=utterance.duration)
    except bigmodel.TransientError as exc:
        if self.request.retries < settings.CLONE_MAX_RETRIES:
            done.update(check_status=Take.Check.PENDING, check_lease_expires_at=None)
            raise self.retry(countdown=retry_delay(self.request.retries, exc.retry_after)) from exc
        done.update(check_status=Take.Check.FAILED, check_error=str(exc), check_lease_expires_at=None)
        return
    except (QuotaExceeded, bigmodel.BigModelError) as exc:
        done.update(check_status=Take.Check.FAILED, check_error=str(exc), check_lease_expires_at=None)
        return
    comparison = best_comparison([utterance.text, utterance.sent_text or utterance.text], heard)
    passed = comparison.error_rate <= settings.CHECK_MAX_ERROR_RATE
    done.update(
        check_status=Take.Check.PASSED if passed else Take.Check.DIFFERS,
        transcript=heard,
        error_rate=comparison.error_rate,
        check_diff=comparison.diff,
        check_error="",
        check_lease_expires_at=None,
    )
