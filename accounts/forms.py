from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken


class SignupForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"), help_text=_("For password resets. Never shown to anyone."))

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this email already exists."))
        return email


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name"]
        labels = {"name": _("Token name")}
        help_texts = {"name": _("What the token is for, for example: my laptop, a nightly script.")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        if self.user.api_tokens.active().count() >= ApiToken.MAX_ACTIVE_PER_USER:
            raise forms.ValidationError(
                _("You have %(count)d active tokens, the most allowed: revoke one first.")
                % {"count": ApiToken.MAX_ACTIVE_PER_USER}
            )
        return super().clean()

    def save(self):
        """The new token and its secret, which is shown once and never stored."""
        return ApiToken.issue(self.user, self.cleaned_data["name"])
