"""Turn finished clones, speech and studio exports into webhook deliveries, with the API's own JSON shapes.

Each delivery carries a key naming the object and its transition: a success happens once to an object
("clone.ready:<uuid>"), while a clone can fail again after a retry, so a failure's key carries the time
it failed. webhooks.tasks.record makes one delivery per endpoint and key, however often it is reported.
"""

from django.conf import settings
from django.dispatch import receiver
from django.utils import translation

from api.serialize import clone_json, export_json, utterance_json
from clones.signals import clone_finished, utterance_finished
from studio.signals import export_finished
from webhooks.models import Endpoint, Event
from webhooks.tasks import record


def transition_key(event, obj, failed):
    """The idempotency key of `event` for `obj` (anything with a uuid and a finished_at)."""
    key = f"{event}:{obj.uuid}"
    return f"{key}:{obj.finished_at.isoformat()}" if failed and obj.finished_at else key


def _emit(user, event, obj, failed, make_data):
    endpoints = Endpoint.objects.listening_to(user, event)
    if not endpoints:
        return []
    # Labels and messages in the bodies are in the site's language, whoever's request is running.
    with translation.override(settings.LANGUAGE_CODE):
        data = make_data()
    key = transition_key(event, obj, failed)
    return [record(endpoint, event, data, key=key) for endpoint in endpoints]


@receiver(clone_finished)
def clone_event(sender, clone, **kwargs):
    failed = not clone.is_ready
    event = Event.CLONE_FAILED if failed else Event.CLONE_READY
    return _emit(clone.owner, event, clone, failed, lambda: clone_json(clone))


@receiver(utterance_finished)
def utterance_event(sender, utterance, **kwargs):
    failed = utterance.status != "ready"
    event = Event.UTTERANCE_FAILED if failed else Event.UTTERANCE_READY
    return _emit(utterance.owner, event, utterance, failed, lambda: utterance_json(utterance))


@receiver(export_finished)
def export_event(sender, export, **kwargs):
    failed = export.status != "ready"
    event = Event.PROJECT_EXPORT_FAILED if failed else Event.PROJECT_EXPORT_READY
    return _emit(export.project.owner, event, export, failed, lambda: export_json(export))
