"""Turn finished clones and speech into webhook deliveries, with the API's own JSON shapes."""

from django.conf import settings
from django.dispatch import receiver
from django.utils import translation

from api.serialize import clone_json, utterance_json
from clones.signals import clone_finished, utterance_finished
from webhooks.models import Endpoint, Event
from webhooks.tasks import record


def _emit(user, event, make_data):
    endpoints = Endpoint.objects.listening_to(user, event)
    if not endpoints:
        return []
    # Labels and messages in the bodies are in the site's language, whoever's request is running.
    with translation.override(settings.LANGUAGE_CODE):
        data = make_data()
    return [record(endpoint, event, data) for endpoint in endpoints]


@receiver(clone_finished)
def clone_event(sender, clone, **kwargs):
    event = Event.CLONE_READY if clone.is_ready else Event.CLONE_FAILED
    return _emit(clone.owner, event, lambda: clone_json(clone))


@receiver(utterance_finished)
def utterance_event(sender, utterance, **kwargs):
    event = Event.UTTERANCE_READY if utterance.status == "ready" else Event.UTTERANCE_FAILED
    return _emit(utterance.owner, event, lambda: utterance_json(utterance))
