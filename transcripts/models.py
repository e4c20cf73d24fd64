"""Transcript help: the provider's speech recognition of a sample, run as a task like every provider call."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clones import leases


def sample_upload_to(transcription, filename):
    return f"transcripts/{transcription.uuid}.wav"


class TranscriptionQuerySet(models.QuerySet):
    def in_flight(self):
        return self.filter(status__in=[Transcription.Status.QUEUED, Transcription.Status.WORKING])

    def abandoned(self):
        """Unfinished ones nobody holds: a dead worker's, or one whose message was lost."""
        now = timezone.now()
        quiet = Q(lease_expires_at__isnull=True, created_at__lt=now - timedelta(seconds=settings.STUCK_AFTER_SECONDS))
        return self.in_flight().filter(leases.lapsed(now) | quiet)


class Transcription(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        WORKING = "working", _("Recognizing speech")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transcriptions", verbose_name=_("owner")
    )
    # The prepared (normalized, at most 30 s) WAV; deleted once recognized.
    sample = models.FileField(_("sample"), upload_to=sample_upload_to, max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.QUEUED)
    text = models.TextField(_("text"), blank=True)
    error_code = models.CharField(_("provider error code"), max_length=32, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = TranscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("transcription")
        verbose_name_plural = _("transcriptions")

    def __str__(self):
        return str(self.uuid)

    def get_absolute_url(self):
        return reverse("transcripts:status", args=[self.uuid])

    @property
    def is_finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def claim(self):
        """Take the lease; False if another worker holds it or it is finished."""
        now = timezone.now()
        taken = (
            Transcription.objects.filter(pk=self.pk)
            .in_flight()
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
            .update(
                status=self.Status.WORKING,
                attempts=F("attempts") + 1,
                lease_expires_at=leases.lease_deadline(now),
            )
        )
        if taken:
            self.refresh_from_db()
        return bool(taken)

    def finish(self, text):
        self.text, self.status, self.finished_at, self.lease_expires_at = text, self.Status.DONE, timezone.now(), None
        self.save(update_fields=["text", "status", "finished_at", "lease_expires_at"])
        self.sample.delete(save=True)

    def fail(self, error):
        self.status, self.finished_at, self.lease_expires_at = self.Status.FAILED, timezone.now(), None
        self.error_code = getattr(error, "code", None) or ""
        self.save(update_fields=["status", "finished_at", "lease_expires_at", "error_code"])
        self.sample.delete(save=True)

    def release(self):
        Transcription.objects.filter(pk=self.pk).update(status=self.Status.QUEUED, lease_expires_at=None)
