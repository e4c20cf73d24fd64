"""The studio's queue: what puts a take or an export in line, the tasks that take them off it, and the
sweep that finds lost ones.

A take's task holds a lease on the take while it works (a redelivered message finds it held and
leaves it), takes a provider slot for each call (the client's limiter, shared with clones), and
retries transient provider errors with the clones' backoff. Beat's sweep queues again any take or
export that a dead worker left behind, as it does for clones.
"""

import logging
import time
from datetime import timedelta
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import QuotaExceeded, billing
from checks import tasks as checks
from clones import bigmodel, leases, pipeline
from clones.tasks import retry_delay
from studio import takes
from studio.mastering import master
from studio.models import Export, Take

logger = logging.getLogger(__name__)


# -- putting work in line --------------------------------------------------------------------------


def queue_take(line, auto_retry=0):
    """A new take of the line, sent to a worker once the transaction commits."""
    take = line.new_take(auto_retry=auto_retry)
    transaction.on_commit(partial(generate_take.delay, take.pk))
    return take


def queue_generation(project):
    """A take for every unlocked line without a fresh chosen take or one on its way; how many."""
    with transaction.atomic():
        lines = list(project.lines_to_generate().select_related("project__clone"))
        for line in lines:
            queue_take(line)
        project.touch()
    return len(lines)


def enqueue_export(export):
    transaction.on_commit(partial(run_export.delay, export.pk))


# -- the tasks -------------------------------------------------------------------------------------


@shared_task(bind=True, max_retries=None)
def generate_take(self, take_id):
    take = (
        Take.objects.select_related("line__project__owner", "line__project__clone", "line__clone")
        .filter(pk=take_id)
        .first()
    )
    if take is None or not take.claim():
        return  # deleted, finished, or another worker holds it
    try:
        with (
            leases.kept_alive(Take, take.pk),
            billing(take.line.project.owner_id, f"take:{take.pk}"),
            pipeline.provider_client() as client,
            bigmodel.log_context(take=take.pk),
        ):
            takes.speak(take, client)
        if take.check_status == Take.Check.PENDING:
            checks.queue_check(take)  # heard back at once, while other lines are still being spoken
        return
    except bigmodel.TransientError as exc:
        error = exc
    except bigmodel.BigModelError as exc:
        take.fail(exc)
        return
    except (QuotaExceeded, takes.VoiceUnavailable) as exc:
        take.fail(exc, str(exc))
        return
    except Exception as exc:
        logger.exception("take=%s failed unexpectedly", take_id)
        take.fail(exc, _("Something went wrong on our side. The site's staff have been told."))
        return
    finally:
        take.release()

    if self.request.retries >= settings.CLONE_MAX_RETRIES:
        take.fail(error)
        return
    take.requeue(error)
    raise self.retry(countdown=retry_delay(self.request.retries, error.retry_after))


class Heartbeat:
    """Marks a long export as moving every HEARTBEAT_SECONDS, so the sweep never queues it a second time
    while a worker is still joining it (an hour of MP3 takes minutes on a busy machine)."""

    HEARTBEAT_SECONDS = 30

    def __init__(self, export):
        self.export, self.last = export, time.monotonic()

    def __call__(self):
        if time.monotonic() - self.last > self.HEARTBEAT_SECONDS:
            Export.objects.filter(pk=self.export.pk).update(updated_at=timezone.now())
            self.last = time.monotonic()


@shared_task
def run_export(export_id):
    export = Export.objects.select_related("project").filter(pk=export_id).first()
    if export is None or not export.claim():
        return
    lines = list(export.project.ordered_lines())
    missing = [line.number for line in lines if line.chosen_take is None or line.chosen_take.status != "ready"]
    if missing:
        export.fail(_("These lines have no chosen take yet: %(lines)s.") % {"lines": ", ".join(map(str, missing))})
        return
    try:
        export.decoded_takes = master(export, lines, alive=Heartbeat(export))
    except Exception:
        logger.exception("export=%s failed", export_id)
        if export.audio:
            export.audio.delete(save=False)
        export.fail(_("Something went wrong on our side. The site's staff have been told."))
        return
    if not export.mark_ready() and export.audio:
        # Another worker finished it first (the sweep queued a slow one again): that one's file stays.
        current = Export.objects.filter(pk=export.pk).values_list("audio", flat=True).first()
        if current != export.audio.name:
            export.audio.delete(save=False)


@shared_task
def sweep_stuck_takes():
    """Run by Celery beat: takes and exports a dead worker left unfinished are queued again."""
    counts = {"takes": 0, "failed_takes": 0, "exports": 0}
    for take in Take.objects.stuck():
        with transaction.atomic():
            if take.attempts > settings.CLONE_MAX_RETRIES:
                take.fail(bigmodel.ServerError(f"Gave up after {take.attempts} attempts"))
                counts["failed_takes"] += 1
                continue
            # Not swept again before its new message had a chance to run: no lease, and moved just now.
            take.status, take.lease_expires_at = Take.Status.QUEUED, None
            take.save(update_fields=["status", "lease_expires_at", "updated_at"])
            transaction.on_commit(partial(generate_take.delay, take.pk))
            counts["takes"] += 1
    cutoff = timezone.now() - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    for export in Export.objects.filter(status__in=["queued", "running"], updated_at__lt=cutoff):
        with transaction.atomic():
            Export.objects.filter(pk=export.pk).update(status=Export.Status.QUEUED, updated_at=timezone.now())
            enqueue_export(export)
        counts["exports"] += 1
    if any(counts.values()):
        logger.warning("studio sweep %s", " ".join(f"{k}={v}" for k, v in counts.items()))
    return counts
