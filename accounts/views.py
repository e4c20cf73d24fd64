from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.mail import send_mail
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import ApiTokenForm, PreferencesForm, SignupForm, ThrottledPasswordResetForm
from accounts.models import EmailConfirmation, Preferences, usage_summary


def signup(request):
    if not settings.SIGNUP_ENABLED:
        raise Http404
    form = SignupForm(request.POST or None, ip_address=get_client_ip_address(request))
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if settings.SIGNUP_EMAIL_CONFIRMATION:
            send_confirmation(request, user)
            messages.info(
                request,
                _("We sent a link to %(email)s: open it to confirm your address, then you can clone and speak.")
                % {"email": user.email},
            )
        return redirect("clones:create")
    status = 429 if form.throttled else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


def send_confirmation(request, user):
    """Mail the user a link that proves their address (the same mail whether or not the address is known)."""
    _confirmation, token = EmailConfirmation.start(user)
    context = {
        "user": user,
        "url": request.build_absolute_uri(reverse("confirm_email", args=[token])),
        "days": EmailConfirmation.MAX_AGE.days,
    }
    send_mail(
        render_to_string("registration/confirm_email_subject.txt", context).strip(),
        render_to_string("registration/confirm_email.txt", context),
        None,
        [user.email],
    )


def confirm_email(request, token):
    """The link from the mail: a page with a button, so that opening the link (or a mail scanner) changes nothing."""
    confirmation = EmailConfirmation.from_token(token)
    context = {"confirmation": confirmation}
    if confirmation is not None and confirmation.confirmed_at is None:
        if confirmation.address_taken:
            context["taken"] = True
        elif request.method == "POST":
            confirmation.confirm()
            messages.success(request, _("Thank you: your address is confirmed."))
            return redirect("clones:create")
    return render(request, "registration/confirm_email.html", context, status=200 if confirmation else 404)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, throttled per network address and per email address (ThrottledPasswordResetForm)."""

    form_class = ThrottledPasswordResetForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "ip_address": get_client_ip_address(self.request)}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


@login_required
@never_cache  # the page that shows a new secret must not be kept by any cache
def api_tokens(request):
    form = ApiTokenForm(request.POST or None, user=request.user)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        # Rendered, not redirected: the secret exists only in this response, never in a session or cookie.
        context["new_token"], context["new_secret"] = form.save()
        context["form"] = ApiTokenForm(user=request.user)
    context["tokens"] = request.user.api_tokens.all()
    return render(request, "accounts/api_tokens.html", context)


@login_required
@require_POST
def revoke_api_token(request, pk):
    token = get_object_or_404(request.user.api_tokens.active(), pk=pk)
    token.revoke()
    messages.success(request, _("The token “%(name)s” was revoked: it no longer works.") % {"name": token.name})
    return redirect("api_tokens")


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    """The account at a glance: usage against the limits, the owner's preferences, and where the rest lives."""
    preferences = Preferences.of(request.user)
    form = PreferencesForm(request.POST if request.method == "POST" else None, instance=preferences)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Your preferences were saved."))
            return redirect("account")
    context = {"usage": usage_summary(request.user), "preferences_form": form}
    return render(request, "accounts/account.html", context, status=400 if form.errors else 200)
