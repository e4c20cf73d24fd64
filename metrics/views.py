import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from metrics.live import LiveCollector


def _allowed(request):
    """Only with METRICS_TOKEN as a bearer token, or from an address in METRICS_ALLOWED_NETWORKS."""
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in settings.METRICS_ALLOWED_NETWORKS)


@require_GET
def metrics(request):
    if not _allowed(request):
        raise Http404  # to everyone else the endpoint does not exist
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(LiveCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
