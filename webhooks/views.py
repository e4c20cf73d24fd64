from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from webhooks.forms import EndpointEventsForm, EndpointForm
from webhooks.models import Endpoint
from webhooks.tasks import send_test_event

DELIVERIES_SHOWN = 50


def endpoint_for(user, pk):
    """The user's endpoint, or a 404 as for a missing one (the web pages and the API alike)."""
    return get_object_or_404(Endpoint, pk=pk, owner=user)


@login_required
def endpoints(request):
    form = EndpointForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        endpoint = form.save()
        messages.success(request, _("Webhook endpoint added. Its signing secret is below."))
        return redirect(endpoint)
    return render(request, "webhooks/endpoints.html", {"form": form, "endpoints": request.user.webhook_endpoints.all()})


@login_required
@never_cache  # shows the signing secret
def detail(request, pk, events_form=None):
    endpoint = endpoint_for(request.user, pk)
    deliveries = endpoint.deliveries.all()[:DELIVERIES_SHOWN]
    context = {
        "endpoint": endpoint,
        "deliveries": deliveries,
        "events_form": events_form or EndpointEventsForm(instance=endpoint),
    }
    return render(request, "webhooks/detail.html", context)


@login_required
@require_POST
def change_events(request, pk):
    endpoint = endpoint_for(request.user, pk)
    form = EndpointEventsForm(request.POST, instance=endpoint)
    if not form.is_valid():
        return detail(request, pk, events_form=form)
    form.save()
    messages.success(request, _("The endpoint's events were saved."))
    return redirect(endpoint)


@login_required
@require_POST
def send_test(request, pk):
    endpoint = endpoint_for(request.user, pk)
    send_test_event(endpoint)
    messages.success(request, _("A test event is on its way. Reload this page to see how it went."))
    return redirect(endpoint)


@login_required
@require_POST
def delete(request, pk):
    endpoint = endpoint_for(request.user, pk)
    endpoint.delete()
    messages.success(request, _("Webhook endpoint deleted."))
    return redirect("webhooks:endpoints")
