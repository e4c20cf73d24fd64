from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class QuotaExceeded(Exception):
    """The message says what ran out and when it comes back; it is shown to the user."""


class Limits(models.Model):
    """Per-user overrides of the site-wide quotas, set by staff. Empty means the site default."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="limits", verbose_name=_("user")
    )
    clones_per_day = models.PositiveIntegerField(_("clones per day"), null=True, blank=True)
    speech_chars_per_day = models.PositiveIntegerField(_("speech characters per day"), null=True, blank=True)

    class Meta:
        verbose_name = _("limits")
        verbose_name_plural = _("limits")

    def __str__(self):
        return str(self.user)


class Usage(models.Model):
    """A ledger of what each user spent at the provider; deleting a clone does not refund it."""

    class Kind(models.TextChoices):
        CLONE = "clone", _("Clone")
        SPEECH_CHARS = "speech_chars", _("Speech characters")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    amount = models.PositiveIntegerField(_("amount"))
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("usage")
        verbose_name_plural = _("usage")
        indexes = [models.Index(fields=["user", "kind", "created_at"])]

    def __str__(self):
        return f"{self.user} {self.kind} {self.amount}"


def _daily_limit(user, kind):
    limits = Limits.objects.filter(user=user).first()
    if kind == Usage.Kind.CLONE:
        override = limits and limits.clones_per_day
        return override if override is not None else settings.QUOTA_CLONES_PER_DAY
    override = limits and limits.speech_chars_per_day
    return override if override is not None else settings.QUOTA_SPEECH_CHARS_PER_DAY


def charge(user, kind, amount):
    """Record `amount` of `kind` for `user`, or raise QuotaExceeded. Call inside transaction.atomic().

    The user's row is locked first, so parallel requests of one user are counted one after another.
    """
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    now = timezone.now()
    spent = Usage.objects.filter(user=user, kind=kind)
    recent = spent.filter(created_at__gte=now - timedelta(minutes=1)).count()
    if recent >= settings.RATE_LIMIT_PER_MINUTE:
        raise QuotaExceeded(_("Too many requests at once: please wait a minute and try again."))
    used = spent.filter(created_at__gte=now - timedelta(days=1)).aggregate(total=Sum("amount"))["total"] or 0
    limit = _daily_limit(user, kind)
    if used + amount > limit:
        if kind == Usage.Kind.CLONE:
            message = _("You have used your %(limit)d clones for the last 24 hours. Please try again later.")
        else:
            message = _(
                "This would pass your limit of %(limit)d characters of speech in 24 hours "
                "(%(used)d used). Please try a shorter text or again later."
            )
        raise QuotaExceeded(message % {"limit": limit, "used": used})
    Usage.objects.create(user=user, kind=kind, amount=amount, created_at=now)
