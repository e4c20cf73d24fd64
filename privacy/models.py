import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def export_upload_to(export, filename):
    return f"exports/{export.uuid}.zip"


class DataExport(models.Model):
    """An archive of everything we hold about a user, built by a task and kept for EXPORT_KEEP_DAYS."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports", verbose_name=_("user")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    archive = models.FileField(_("archive"), upload_to=export_upload_to, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")

    def __str__(self):
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def expires_at(self):
        return (self.finished_at or self.created_at) + timedelta(days=settings.EXPORT_KEEP_DAYS)

    def get_download_url(self):
        return reverse("privacy:download", args=[self.uuid])

    def delete_with_file(self):
        if self.archive:
            self.archive.delete(save=False)
        self.delete()


class AccountClosure(models.Model):
    """A request to delete an account. Once done, only these dates and counts remain: no user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="closure",
        verbose_name=_("user"),
    )
    by_staff = models.BooleanField(_("closed by staff"), default=False)
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    # Touched by every run of the closing task, so the sweep resumes only a closure nobody works on.
    checked_at = models.DateTimeField(_("last checked"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    clones_deleted = models.PositiveIntegerField(_("clones deleted"), default=0)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("account closure")
        verbose_name_plural = _("account closures")

    def __str__(self):
        return f"closure {self.pk}"


class AnonymousUsage(models.Model):
    """What closed accounts spent, per day and kind, with nothing that says who: the ledger's remains."""

    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=20)
    amount = models.PositiveBigIntegerField(_("amount"), default=0)

    class Meta:
        ordering = ["-day", "kind"]
        constraints = [models.UniqueConstraint(fields=["day", "kind"], name="anonymous_usage_per_day_and_kind")]
        verbose_name = _("anonymous usage")
        verbose_name_plural = _("anonymous usage")

    def __str__(self):
        return f"{self.day} {self.kind} {self.amount}"

    @classmethod
    def fold_in(cls, ledger):
        """Add the ledger rows' amounts to the daily totals; the caller then deletes the rows."""
        daily = ledger.annotate(day=TruncDate("created_at")).values("day", "kind").annotate(total=Sum("amount"))
        for row in daily.order_by():
            total, _created = cls.objects.select_for_update().get_or_create(day=row["day"], kind=row["kind"])
            cls.objects.filter(pk=total.pk).update(amount=models.F("amount") + row["total"])
