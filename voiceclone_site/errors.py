"""Django's error views in the site's style: a page for people, JSON under /api/.

Django answers a request it cannot read (too large, malformed multipart, too many fields) through
`handler400`, whose default is a bare "Bad Request (400)". These say what went wrong and what to do.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from api.errors import error_response
from clones.uploads import upload_too_large_answer


def _is_api(request):
    return request.path.startswith("/api/")


def _unreadable(exception):
    """(status, code, message) for a request Django refused to read."""
    if isinstance(exception, RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return (
            413,
            "request_too_large",
            _("This request was too large: text fields may hold at most %(limit)s in all. Please shorten the text.")
            % {"limit": limit},
        )
    if isinstance(exception, MultiPartParserError) and "header size" in str(exception):
        # Django reads at most 1 KB of headers per form part; only a file's name can make them that long.
        return 400, "file_name_too_long", _("The file's name is too long. Please rename the file and try again.")
    return 400, "bad_request", _("The request could not be read: it was malformed or incomplete. Please try again.")


def bad_request(request, exception=None):
    status, code, message = _unreadable(exception)
    if _is_api(request):
        return error_response(status, code, message)
    return render(request, "400.html", {"message": message}, status=status)


def permission_denied(request, exception=None):
    if _is_api(request):
        return error_response(403, "forbidden", _("You may not do this."))
    return render(request, "403.html", status=403)


def csrf_failure(request, reason=""):
    if getattr(request, "upload_too_large", False):
        return upload_too_large_answer(request)
    message = _(
        "This form had expired or came from another site, so it was not sent. Please reload the page and try again."
    )
    if _is_api(request):
        return error_response(403, "csrf_failed", message)
    return render(request, "403.html", {"message": message}, status=403)
