"""The API's JSON shapes outside a request: for webhook bodies and data exports, built by tasks.

Links in them are absolute URLs on SITE_URL, as a client of the API would see them.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest


def site_request():
    """A stand-in request for the API's serializers, which build absolute links from a request."""
    site = urlsplit(settings.SITE_URL)
    request = HttpRequest()
    request.META = {"SERVER_NAME": site.hostname or "localhost", "SERVER_PORT": str(site.port or "")}
    request.get_host = lambda: site.netloc
    request._get_scheme = lambda: site.scheme or "http"
    return request


def clone_json(clone):
    from api import schemas
    from api.views import _clone_out

    return schemas.CloneOut.model_validate(_clone_out(site_request(), clone)).model_dump(mode="json")


def utterance_json(utterance):
    from api import schemas
    from api.views import _utterance_out

    return schemas.UtteranceOut.model_validate(_utterance_out(site_request(), utterance)).model_dump(mode="json")


def export_json(export):
    from api.studio import ExportOut, _export_out

    return ExportOut.model_validate(_export_out(site_request(), export)).model_dump(mode="json")
