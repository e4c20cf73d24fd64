"""The webhooks part of the JSON API (/api/v1/webhooks): the same form and helpers as the pages."""

from datetime import datetime
from typing import Literal

from django.http import Http404
from ninja import Field, Router, Schema, Status

from api.errors import form_invalid, not_found
from api.schemas import Error
from webhooks import tasks
from webhooks.forms import EndpointEventsForm, EndpointForm
from webhooks.models import Event
from webhooks.views import DELIVERIES_SHOWN, endpoint_for

router = Router(tags=["webhooks"])

EventName = Literal[tuple(Event.values)]


class EndpointIn(Schema):
    url: str = Field(description="A public http(s) URL; private, loopback and link-local addresses are refused.")
    description: str = ""
    events: list[EventName] = Field(default_factory=lambda: list(Event.values))


class EndpointEventsIn(Schema):
    events: list[EventName] = Field(description="Replaces the events the endpoint hears; its URL and secret stay.")


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    secret: str = Field(description="Checks the Voiceclone-Signature header of our requests (see the README).")
    is_active: bool
    created_at: datetime


class DeliveryOut(Schema):
    id: str = Field(description="Also sent as the Voiceclone-Delivery header and the body's `id`.")
    event: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    response_status: int | None
    error: str
    created_at: datetime
    last_attempt_at: datetime | None


def _endpoint_out(endpoint):
    fields = ["id", "url", "description", "events", "secret", "is_active", "created_at"]
    return {name: getattr(endpoint, name) for name in fields}


def _delivery_out(delivery):
    return {
        "id": str(delivery.uuid),
        **{
            name: getattr(delivery, name)
            for name in ["event", "status", "attempts", "response_status", "error", "created_at", "last_attempt_at"]
        },
    }


def _endpoint(request, pk):
    try:
        return endpoint_for(request.auth, pk)
    except Http404:
        raise not_found() from None


@router.get("", response={200: list[EndpointOut], 401: Error}, summary="List your webhook endpoints")
def list_endpoints(request):
    return [_endpoint_out(endpoint) for endpoint in request.auth.webhook_endpoints.all()]


@router.post("", response={201: EndpointOut, 400: Error, 401: Error}, summary="Add a webhook endpoint")
def create_endpoint(request, payload: EndpointIn):
    """We POST the events it listens for to it, signed: clone.ready, clone.failed, utterance.ready,
    utterance.failed, project.export.ready and project.export.failed (all of them unless `events` says)."""
    form = EndpointForm(payload.dict(), owner=request.auth)
    if not form.is_valid():
        raise form_invalid(form)
    return Status(201, _endpoint_out(form.save()))


@router.get("/{pk}", response={200: EndpointOut, 401: Error, 404: Error}, summary="Get a webhook endpoint")
def get_endpoint(request, pk: int):
    return _endpoint_out(_endpoint(request, pk))


@router.patch(
    "/{pk}", response={200: EndpointOut, 400: Error, 401: Error, 404: Error}, summary="Change the events it hears"
)
def change_events(request, pk: int, payload: EndpointEventsIn):
    form = EndpointEventsForm(payload.dict(), instance=_endpoint(request, pk))
    if not form.is_valid():
        raise form_invalid(form)
    return _endpoint_out(form.save())


@router.delete("/{pk}", response={204: None, 401: Error, 404: Error}, summary="Delete a webhook endpoint")
def delete_endpoint(request, pk: int):
    _endpoint(request, pk).delete()
    return Status(204, None)


@router.get(
    "/{pk}/deliveries",
    response={200: list[DeliveryOut], 401: Error, 404: Error},
    summary="The latest deliveries",
)
def list_deliveries(request, pk: int):
    """Newest first, the last 50, with the receiver's HTTP status."""
    return [_delivery_out(d) for d in _endpoint(request, pk).deliveries.all()[:DELIVERIES_SHOWN]]


@router.post("/{pk}/test", response={202: DeliveryOut, 401: Error, 404: Error}, summary="Send a test event")
def send_test_event(request, pk: int):
    """A `webhook.test` event, signed and delivered like any other."""
    return Status(202, _delivery_out(tasks.send_test_event(_endpoint(request, pk))))
