"""/api/: the Ninja API under v1/, and JSON answers where Django's would be HTML pages."""

from functools import wraps

from django.http import Http404
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from api.errors import method_not_allowed, page_not_found
from api.views import api
from lab.api import router as lab_router
from lab.assembly import MAX_FILES
from lab.uploads import accepts_files


def _json_errors(view):
    """Ninja answers a wrong method with a plain-text 405 and its root URL with Django's 404 page."""

    @wraps(view)  # keeps csrf_exempt: the API authenticates by token, never by cookie
    def wrapped(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return page_not_found(request)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            return method_not_allowed(request, response.get("Allow", ""))
        return response

    return wrapped


# The clone fidelity lab's endpoints live with the lab; they join the API here, before its URLs are made.
api.add_router("", lab_router)
api_patterns, ninja_app, ninja_namespace = api.urls
for pattern in api_patterns:
    pattern.callback = _json_errors(pattern.callback)
    if pattern.name == "create_joined_clone":
        pattern.callback = accepts_files(MAX_FILES)(pattern.callback)

urlpatterns = [
    path("v1/", include((api_patterns, ninja_app), namespace=ninja_namespace)),
    re_path(r"", csrf_exempt(page_not_found)),  # any other URL under /api/
]
