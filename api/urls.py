"""/api/v1/: the Ninja API, plus JSON answers for unknown URLs and methods (Django's are HTML)."""

from functools import wraps

from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from api.errors import method_not_allowed, page_not_found
from api.views import api


def _json_405(view):
    @wraps(view)  # keeps csrf_exempt: the API authenticates by token, never by cookie
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            return method_not_allowed(request, response.get("Allow", ""))
        return response

    return wrapped


api_patterns, ninja_app, ninja_namespace = api.urls
for pattern in api_patterns:
    pattern.callback = _json_405(pattern.callback)

urlpatterns = [
    path("v1/", include((api_patterns, ninja_app), namespace=ninja_namespace)),
    re_path(r"", csrf_exempt(page_not_found)),
]
