from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks import transport
from webhooks.models import Endpoint, Event, allowed_networks


def events_field():
    return forms.MultipleChoiceField(
        label=_("Events"), choices=Event.choices, widget=forms.CheckboxSelectMultiple, initial=Event.values
    )


class EndpointEventsForm(forms.ModelForm):
    """The events an endpoint hears, changed later: its URL and secret stay as they are."""

    events = events_field()

    class Meta:
        model = Endpoint
        fields = ["events"]


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("An https URL of yours on the public internet. We POST signed JSON to it."),
    )
    events = events_field()

    class Meta:
        model = Endpoint
        fields = ["url", "description", "events"]
        labels = {"description": _("Description")}

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_url(self):
        url = self.cleaned_data["url"]
        # The cheap early answer; the delivery task checks again, after its own lookup, on every redirect.
        try:
            parts = transport.check_url(url)
            transport.resolve_public(parts.hostname, parts.port or 443, allowed_networks())
        except transport.AddressNotAllowed:
            raise forms.ValidationError(
                _("This URL points to a private or local address; webhooks go only to the public internet."),
                code="private_address",
            ) from None
        except transport.DeliveryFailed:
            raise forms.ValidationError(_("This host name could not be found."), code="unresolvable") from None
        return url

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and self.owner.webhook_endpoints.count() >= Endpoint.MAX_PER_USER:
            raise forms.ValidationError(
                _("You can have at most %(count)d webhook endpoints. Delete one first."),
                params={"count": Endpoint.MAX_PER_USER},
                code="too_many",
            )
        return cleaned

    def save(self, commit=True):
        self.instance.owner = self.owner
        return super().save(commit)
