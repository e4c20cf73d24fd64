from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.forms import ApiTokenForm, SignupForm
from accounts.models import usage_summary


def signup(request):
    if not settings.SIGNUP_ENABLED:
        raise Http404
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("clones:create")
    return render(request, "registration/signup.html", {"form": form})


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
def account(request):
    """The account at a glance: usage against the limits, and where the rest of it lives."""
    return render(request, "accounts/account.html", {"usage": usage_summary(request.user)})
