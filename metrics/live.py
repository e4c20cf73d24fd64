"""Gauges read at scrape time from the database and the broker, so every process sees the same value."""

import logging

from django.conf import settings
from django.utils import timezone
from kombu.exceptions import ChannelError
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)


class LiveCollector:
    def collect(self):
        from clones.models import Clone, ProviderSlot, Utterance
        from webhooks.models import Delivery

        slots = GaugeMetricFamily("voiceclone_provider_slots", "Provider calls allowed in flight at once.")
        slots.add_metric([], settings.PROVIDER_MAX_CONCURRENCY)
        yield slots
        in_use = ProviderSlot.objects.filter(
            number__lte=settings.PROVIDER_MAX_CONCURRENCY, expires_at__gt=timezone.now()
        ).count()
        yield GaugeMetricFamily("voiceclone_provider_slots_in_use", "Provider slots held by a call now.", value=in_use)

        waiting = GaugeMetricFamily(
            "voiceclone_work_waiting", "Unfinished work in the database, by kind.", labels=["kind"]
        )
        waiting.add_metric(
            ["clone"], Clone.objects.exclude(status__in=Clone.FINISHED).filter(deletion_requested_at=None).count()
        )
        waiting.add_metric(["clone_deletion"], Clone.objects.filter(deletion_requested_at__isnull=False).count())
        waiting.add_metric(["utterance"], Utterance.objects.filter(status__in=["queued", "speaking"]).count())
        waiting.add_metric(["webhook"], Delivery.objects.filter(status=Delivery.Status.PENDING).count())
        yield waiting

        depth = _queue_depth()
        if depth is not None:
            yield GaugeMetricFamily(
                "voiceclone_queue_depth", "Task messages waiting in the broker's queue.", value=depth
            )


def _queue_depth():
    """Messages waiting in every queue the workers consume (speech and clones, and the checks)."""
    from voiceclone_site.celery import app

    names = [queue.name for queue in app.conf.task_queues or ()] or [app.conf.task_default_queue]
    try:
        with app.connection_for_read() as connection:
            return sum(_depth(connection.default_channel, name) for name in names)
    except Exception:  # a scrape must not fail because the broker is down; the gauge is left out instead
        logger.warning("metrics: the broker's queue depth could not be read", exc_info=True)
        return None


def _depth(channel, name):
    try:
        return channel.queue_declare(queue=name, passive=True).message_count
    except ChannelError:
        # Redis has no queue until a message is in it: a queue it does not know is an empty one.
        return 0
