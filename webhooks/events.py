"""Turn finished clones and speech into webhook deliveries, with the API's own JSON shapes."""

from urllib.parse import urlsplit

from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import translation

from clones.signals import clone_finished, utterance_finished
from webhooks.models import Endpoint, Event


def _site_request():
    """A stand-in request for the API's serializers, whose links are absolute URLs on SITE_URL."""
    site = urlsplit(settings.SITE_URL)
    request = HttpRequest()
    request.META = {"SERVER_NAME": site.hostname or "localhost", "SERVER_PORT": str(site.port or "")}
    request.get_host = lambda: site.netloc
    request._get_scheme = lambda: site.scheme or "http"
    return request


def clone_data(clone):
    from api import schemas
    from api.views import _clone_out

    return schemas.CloneOut.model_validate(_clone_out(_site_request(), clone)).model_dump(mode="json")


def utterance_data(utterance):
    from api import schemas
    from api.views import _utterance_out

    return schemas.UtteranceOut.model_validate(_utterance_out(_site_request(), utterance)).model_dump(mode="json")


def _emit(user, event, make_data):
    endpoints = Endpoint.objects.listening_to(user, event)
    if not endpoints:
        return []
    # Labels and messages in the bodies are in the site's language, whoever's request is running.
    with translation.override(settings.LANGUAGE_CODE):
        data = make_data()
    return [endpoint.record(event, data) for endpoint in endpoints]


@receiver(clone_finished)
def clone_event(sender, clone, **kwargs):
    event = Event.CLONE_READY if clone.is_ready else Event.CLONE_FAILED
    return _emit(clone.owner, event, lambda: clone_data(clone))


@receiver(utterance_finished)
def utterance_event(sender, utterance, **kwargs):
    event = Event.UTTERANCE_READY if utterance.status == "ready" else Event.UTTERANCE_FAILED
    return _emit(utterance.owner, event, lambda: utterance_data(utterance))
