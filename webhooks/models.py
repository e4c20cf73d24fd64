import ipaddress
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from webhooks import transport
from webhooks.signing import new_secret


class Event(models.TextChoices):
    CLONE_READY = "clone.ready", _("A clone is ready")
    CLONE_FAILED = "clone.failed", _("A clone failed")
    UTTERANCE_READY = "utterance.ready", _("Speech is ready")
    UTTERANCE_FAILED = "utterance.failed", _("Speech failed")
    PROJECT_EXPORT_READY = "project.export.ready", _("A studio project's export is ready")
    PROJECT_EXPORT_FAILED = "project.export.failed", _("A studio project's export failed")


# Sent only by "Send a test event"; endpoints cannot subscribe to it.
TEST_EVENT = "webhook.test"


def allowed_networks():
    """WEBHOOK_ALLOWED_NETWORKS as network objects: private addresses an operator lets webhooks reach."""
    return [ipaddress.ip_network(network, strict=False) for network in settings.WEBHOOK_ALLOWED_NETWORKS]


def all_events():
    return [event.value for event in Event]


class EndpointQuerySet(models.QuerySet):
    def listening_to(self, user, event):
        # Filtered in Python: a JSON "contains" lookup is not available on SQLite, and a user has few endpoints.
        return [endpoint for endpoint in self.filter(owner=user, is_active=True) if event in endpoint.events]


class Endpoint(models.Model):
    """A URL of an API user's that hears about their clones and speech."""

    MAX_PER_USER = 10

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("owner")
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=100, blank=True)
    events = models.JSONField(_("events"), default=all_events)
    # The receiver needs it to check our signature, so it is kept as it is (unlike API tokens).
    secret = models.CharField(_("signing secret"), max_length=80, default=new_secret, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self):
        return self.url

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("webhooks:detail", args=[self.pk])


class Delivery(models.Model):
    """One event for one endpoint, tried with growing pauses until it is accepted or a day has passed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(_("event"), max_length=40)
    # Which transition of which object this tells, e.g. "clone.ready:<uuid>" (webhooks.events): unique
    # per endpoint, so that one transition is never delivered twice, even if it is reported twice at
    # once. Blank for test events, each of which is new.
    key = models.CharField(_("idempotency key"), max_length=200, blank=True, editable=False)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.TextField(_("response body"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the next try is due; a worker sending it pushes it forward (its lease), so nobody else sends it too.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_pending_idx", condition=Q(status="pending")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "key"], condition=~Q(key=""), name="webhook_delivery_once"),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint}"

    def body(self):
        """Return the exact bytes that are signed and sent: the same on every attempt."""
        import json

        from django.core.serializers.json import DjangoJSONEncoder

        envelope = {"id": str(self.uuid), "type": self.event, "created_at": self.created_at, "data": self.payload}
        return json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()

    def claim(self):
        """Take this delivery for one attempt; False if it is not due, or done, or another worker has it."""
        now = timezone.now()
        # Longer than the slowest attempt: a connect and a read timeout for each hop of the redirects.
        hops = transport.MAX_REDIRECTS + 1
        lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 2 * hops + 30)
        taken = Delivery.objects.filter(pk=self.pk, status=self.Status.PENDING, next_attempt_at__lte=now).update(
            next_attempt_at=lease
        )
        return bool(taken)

    def retry_delay(self):
        """Seconds until the next try: doubling from WEBHOOK_RETRY_BASE_DELAY, capped at an hour."""
        return min(3600.0, settings.WEBHOOK_RETRY_BASE_DELAY * 2 ** max(0, self.attempts - 1))

    def note_attempt(self, *, status=None, body="", error=""):
        """Record one attempt's outcome; return the seconds to wait before the next one, or None if done."""
        now = timezone.now()
        self.attempts += 1
        self.last_attempt_at = now
        self.response_status, self.response_body, self.error = status, body[:2048], error[:300]
        delay = None
        if status is not None and 200 <= status < 300:
            self.status = self.Status.DELIVERED
        elif now + timedelta(seconds=self.retry_delay()) > self.created_at + timedelta(
            seconds=settings.WEBHOOK_RETRY_FOR_SECONDS
        ):
            self.status = self.Status.FAILED
        else:
            delay = self.retry_delay()
            self.next_attempt_at = now + timedelta(seconds=delay)
        self.save()
        return delay
