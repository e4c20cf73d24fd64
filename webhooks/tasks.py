import ipaddress
import logging
import time

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from webhooks import transport
from webhooks.models import Delivery
from webhooks.signing import SIGNATURE_HEADER, signature

logger = logging.getLogger(__name__)

# A retry due sooner than this is queued with a countdown; later ones are left to the beat sweep, since
# a broker may redeliver (Redis) or hold (memory) a message that waits for hours.
COUNTDOWN_LIMIT_SECONDS = 300


def allowed_networks():
    return [ipaddress.ip_network(network, strict=False) for network in settings.WEBHOOK_ALLOWED_NETWORKS]


@shared_task
def deliver(delivery_id):
    delivery = Delivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or not delivery.claim():
        return  # gone, done, not due yet, or another worker is sending it
    body = delivery.body()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Voiceclone-Webhooks/1",
        "Voiceclone-Event": delivery.event,
        "Voiceclone-Delivery": str(delivery.uuid),
        SIGNATURE_HEADER: signature(delivery.endpoint.secret, int(time.time()), body),
    }
    try:
        response = transport.post(
            delivery.endpoint.url,
            body,
            headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allowed_networks=allowed_networks(),
        )
    except transport.DeliveryFailed as exc:
        delay = delivery.note_attempt(error=str(exc))
    else:
        error = "" if 200 <= response.status < 300 else f"HTTP {response.status}"
        delay = delivery.note_attempt(status=response.status, body=response.body, error=error)
    logger.info(
        "webhook delivery=%s event=%s attempt=%d status=%s outcome=%s",
        delivery.pk,
        delivery.event,
        delivery.attempts,
        delivery.response_status,
        delivery.status,
    )
    if delay is not None and delay <= COUNTDOWN_LIMIT_SECONDS:
        delivery.enqueue(countdown=delay)


@shared_task
def send_due_webhooks():
    """Run by Celery beat: queue every delivery whose next try is due (long waits, lost messages)."""
    due = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now())
    ids = list(due.values_list("pk", flat=True)[:1000])
    for pk in ids:
        deliver.delay(pk)
    return len(ids)
