from django.conf import settings
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render

from accounts.forms import SignupForm


def signup(request):
    if not settings.SIGNUP_ENABLED:
        raise Http404
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("clones:create")
    return render(request, "registration/signup.html", {"form": form})
