"""Every error the API gives is JSON: {"error": {"code": ..., "message": ..., "fields": {...}}}.

`code` is stable and meant for programs; `message` is for people and follows Accept-Language.
"""

import logging

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, ValidationError

from accounts.models import QuotaExceeded

logger = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status, code, message, *, fields=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields, self.headers = status, code, message, fields, headers

    def response(self):
        return error_response(self.status, self.code, self.message, fields=self.fields, headers=self.headers)


class InvalidToken(AuthenticationError):
    """A token was sent, but it is unknown, revoked or malformed."""


def error_response(status, code, message, *, fields=None, headers=None):
    error = {"code": code, "message": str(message)}
    if fields:
        error["fields"] = fields
    return JsonResponse({"error": error}, status=status, headers={"Cache-Control": "no-store", **(headers or {})})


def form_invalid(form):
    """A bound Django form's errors, with the very messages the web page shows."""
    fields = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
    message = " ".join(message for messages in fields.values() for message in messages)
    return ApiError(400, "validation_error", message, fields=fields)


def quota_exceeded(exc):
    if exc.code == "email_unconfirmed":
        return ApiError(403, exc.code, str(exc))  # waiting will not help; confirming the address will
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return ApiError(429, exc.code, str(exc), headers=headers)


def not_found(message=None):
    return ApiError(404, "not_found", message or _("Not found, or not yours."))


def _not_authenticated(request, exc):
    if isinstance(exc, InvalidToken):
        code, message = "invalid_token", _("This API token is unknown or has been revoked.")
    else:
        code, message = "not_authenticated", _("Send an API token in the header “Authorization: Bearer <token>”.")
    return error_response(401, code, message, headers={"WWW-Authenticate": 'Bearer realm="api"'})


def _invalid_parameters(request, exc):
    fields = {}
    for error in exc.errors:
        location = [part for part in error.get("loc", ()) if isinstance(part, str)]
        if location and location[0] == "path":
            return not_found().response()  # /clones/not-a-uuid is a clone that does not exist
        # ("query", "page") -> "page", ("body", "payload", "speed") -> "speed", ("body", "payload") -> "body"
        name = location[-1] if len(location) > 2 or location[:1] != ["body"] else "body"
        fields.setdefault(name, []).append(error.get("msg", ""))
    return error_response(400, "validation_error", _("The request is not valid: see “fields”."), fields=fields)


def _http_error(request, exc):
    # Ninja raises these itself only for bodies it cannot parse.
    return error_response(400, "validation_error", _("The request body is not valid JSON."))


def _bad_request(request, exc):
    if isinstance(exc, RequestDataTooBig):
        return error_response(413, "file_too_large", _("The request is too large."))
    return error_response(400, "validation_error", _("The request body could not be read."))


def _server_error(request, exc):
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(500, "server_error", _("Something went wrong on our side. Please try again later."))


def install_handlers(api):
    api.add_exception_handler(ApiError, lambda request, exc: exc.response())
    api.add_exception_handler(AuthenticationError, _not_authenticated)
    api.add_exception_handler(ValidationError, _invalid_parameters)
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(Http404, lambda request, exc: not_found().response())
    # A submission the owner's quota refuses (clones.submissions), with nothing saved or queued.
    api.add_exception_handler(QuotaExceeded, lambda request, exc: quota_exceeded(exc).response())
    for exc_class in (MultiPartParserError, BadRequest, SuspiciousOperation):
        api.add_exception_handler(exc_class, _bad_request)
    api.add_exception_handler(Exception, _server_error)


def page_not_found(request, *args, **kwargs):
    return error_response(404, "not_found", _("There is no such API endpoint. See /api/v1/docs."))


def method_not_allowed(request, allowed):
    message = _("This endpoint does not take %(method)s requests.") % {"method": request.method}
    return error_response(405, "method_not_allowed", message, headers={"Allow": allowed})
