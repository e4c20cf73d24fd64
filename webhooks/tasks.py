import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks import transport
from webhooks.models import TEST_EVENT, Delivery, allowed_networks
from webhooks.signing import SIGNATURE_HEADER, signature

logger = logging.getLogger(__name__)

# A retry due sooner than this is queued with a countdown; later ones are left to the beat sweep, since
# a broker may redeliver (Redis) or hold (memory) a message that waits for hours.
COUNTDOWN_LIMIT_SECONDS = 300


def record(endpoint, event, payload, key=""):
    """Return a new delivery of `payload` as `event` to `endpoint`; it is sent once the transaction commits.

    With a `key` (the object and its transition), a transition already recorded for this endpoint is
    not recorded or sent again: the delivery made the first time is returned. The unique constraint
    decides, so two processes telling the same transition at once still make one delivery."""
    if not key:
        delivery = Delivery.objects.create(endpoint=endpoint, event=event, payload=payload)
    else:
        delivery, created = Delivery.objects.get_or_create(
            endpoint=endpoint, key=key, defaults={"event": event, "payload": payload}
        )
        if not created:
            logger.info("webhook event=%s key=%s already recorded as delivery=%s", event, key, delivery.pk)
            return delivery
    enqueue(delivery)
    return delivery


def send_test_event(endpoint):
    return record(endpoint, TEST_EVENT, {"message": "This is a test event from Voiceclone."})


def enqueue(delivery, countdown=None):
    transaction.on_commit(lambda: deliver.apply_async((delivery.pk,), countdown=countdown))


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
        enqueue(delivery, countdown=delay)


@shared_task
def send_due_webhooks():
    """Run by Celery beat: queue every delivery whose next try is due (long waits, lost messages)."""
    due = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now())
    ids = list(due.values_list("pk", flat=True)[:1000])
    for pk in ids:
        deliver.delay(pk)
    return len(ids)
