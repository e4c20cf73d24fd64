from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountEvent, ApiToken, Preferences


class SignupForm(UserCreationForm):
    """A new account. Whether the email is already known is never said: that would tell who has an account."""

    email = forms.EmailField(label=_("Email"), help_text=_("For password resets. Never shown to anyone."))

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]

    def __init__(self, *args, ip_address, **kwargs):
        super().__init__(*args, **kwargs)
        self.ip_address = ip_address
        self.throttled = False

    def clean_email(self):
        return self.cleaned_data["email"].lower()

    def clean(self):
        signups = AccountEvent.Kind.SIGNUP
        if (
            AccountEvent.count_last_hour(signups, ip_address=self.ip_address) >= settings.SIGNUPS_PER_ADDRESS_PER_HOUR
            or AccountEvent.count_last_hour(signups) >= settings.SIGNUPS_PER_HOUR
        ):
            self.throttled = True
            raise forms.ValidationError(_("Too many accounts were created from here lately. Please try again later."))
        return super().clean()

    def save(self):
        user = super().save()
        AccountEvent.record(AccountEvent.Kind.SIGNUP, self.ip_address, user.email)
        return user


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending at most a few mails an hour per address and per network address."""

    def __init__(self, *args, ip_address=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ip_address = ip_address
        self.throttled = False

    def clean(self):
        resets = AccountEvent.Kind.PASSWORD_RESET
        per_address = AccountEvent.count_last_hour(resets, ip_address=self.ip_address)
        if per_address >= settings.PASSWORD_RESETS_PER_ADDRESS_PER_HOUR:
            self.throttled = True
            raise forms.ValidationError(_("Too many password resets were asked for from here. Please try again later."))
        return super().clean()

    def save(self, *args, **kwargs):
        email = self.cleaned_data["email"].lower()
        sent_lately = AccountEvent.count_last_hour(AccountEvent.Kind.PASSWORD_RESET, email=email)
        AccountEvent.record(AccountEvent.Kind.PASSWORD_RESET, self.ip_address, email)
        # Past the per-email limit nothing is sent, and the page says what it always says, so the
        # limit tells nobody whether the address has an account.
        if sent_lately < settings.PASSWORD_RESET_MAILS_PER_EMAIL_PER_HOUR:
            super().save(*args, **kwargs)


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


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = ["check_speech"]
        labels = {"check_speech": _("Check my speech")}
