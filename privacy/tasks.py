import logging
import tempfile
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from clones import stored_files
from clones.tasks import request_deletion, retry_delay
from privacy import archive
from privacy.models import AccountClosure, AnonymousUsage, DataExport

logger = logging.getLogger(__name__)


def start_export(user):
    """Return a new export of `user`'s data; a task builds its archive once the transaction commits."""
    export = DataExport.objects.create(user=user)
    transaction.on_commit(lambda: build_export.delay(export.pk))
    return export


def close_account(user, *, by_staff=False):
    """Start deleting `user`: from now on they cannot sign in or use tokens; a task deletes the rest."""
    closure, _created = AccountClosure.objects.get_or_create(user=user, defaults={"by_staff": by_staff})
    user.is_active = False
    user.save(update_fields=["is_active"])
    user.api_tokens.active().update(revoked_at=timezone.now())
    transaction.on_commit(lambda: finish_closure.delay(closure.pk))
    return closure


@shared_task
def build_export(export_id):
    export = DataExport.objects.select_related("user").filter(pk=export_id, status=DataExport.Status.PENDING).first()
    if export is None:
        return
    try:
        with tempfile.TemporaryFile() as spool:
            archive.write(export.user, spool)
            export.size = spool.tell()
            spool.seek(0)
            export.archive.save(f"{export.uuid}.zip", File(spool), save=False)
        export.status = DataExport.Status.READY
    except Exception:
        logger.exception("export=%s failed", export_id)
        export.status = DataExport.Status.FAILED
    export.finished_at = timezone.now()
    export.save()


@shared_task(bind=True, max_retries=None)
def finish_closure(self, closure_id):
    """Delete a closed account: every provider voice first (the clones' own deletion tasks retry until
    the provider confirms), and only once none is left, the files and rows; the ledger becomes totals."""
    closure = AccountClosure.objects.select_related("user").filter(pk=closure_id, finished_at=None).first()
    if closure is None or closure.user is None:
        return
    user = closure.user
    if not closure.clones_deleted:
        closure.clones_deleted = user.clones.count()
    closure.save(update_fields=["clones_deleted", "checked_at"])
    for clone in user.clones.filter(deletion_requested_at=None):
        with transaction.atomic():
            request_deletion(clone)
    if user.clones.exists():
        # Waiting for the clones' deletion tasks; this task is retried, and the beat sweep resumes it if lost.
        raise self.retry(countdown=retry_delay(min(self.request.retries, 6)))
    # Every file of every row that goes with the account: speech, studio takes and exports,
    # transcriptions, data exports, and whatever a later feature stores.
    stored_files.delete_files(stored_files.files_of(user))
    with transaction.atomic():
        AnonymousUsage.fold_in(user.usage.all())
        user.usage.all().delete()
        archive.forget_sign_ins(user)
        closure.user = None
        closure.finished_at = timezone.now()
        closure.save(update_fields=["user", "finished_at"])
        user.delete()
    logger.info("closure=%s account deleted clones=%d", closure.pk, closure.clones_deleted)


@shared_task
def sweep_personal_data():
    """Run by Celery beat: expired exports go, and closures whose task was lost are resumed."""
    cutoff = timezone.now() - timedelta(days=settings.EXPORT_KEEP_DAYS)
    expired = DataExport.objects.filter(created_at__lt=cutoff)
    for export in expired:
        export.delete_with_file()
    stalled = AccountClosure.objects.filter(
        finished_at=None, checked_at__lt=timezone.now() - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    )
    for closure in stalled:
        finish_closure.delay(closure.pk)
