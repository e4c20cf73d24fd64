"""Optional error reports to Sentry (SENTRY_DSN), from the web and the worker processes alike.

Nothing secret may leave in a report: the BigModel API key, API tokens, webhook signing secrets,
share tokens, cookies and sessions, and the audio people upload. Local variables and request bodies
are never sent at all (a sample's bytes or a token could sit in either), headers that carry
credentials are dropped, and every string left in the event is scrubbed of known secrets and of
anything shaped like one of our tokens before it goes.
"""

import re

from django.conf import settings

FILTERED = "[Filtered]"
SENSITIVE_HEADERS = {"authorization", "cookie", "set-cookie", "x-csrftoken", "proxy-authorization"}
TOKEN_SHAPES = re.compile(
    r"vc_[A-Za-z0-9_-]{16,}"  # API tokens (accounts.models.ApiToken)
    r"|whsec_[A-Za-z0-9_-]{16,}"  # webhook signing secrets
    r"|(?<=/s/)[A-Za-z0-9_-]{20,}"  # share links, /s/<token>/
    r"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"  # any 256-bit URL-safe token (share tokens)
    r"|(?i:bearer)\s+\S+"
)


def _known_secrets():
    values = [settings.BIGMODEL_API_KEY, settings.SECRET_KEY, settings.METRICS_TOKEN]
    return [value for value in values if value and len(value) >= 6]


def _scrub_text(text, secrets):
    for secret in secrets:
        text = text.replace(secret, FILTERED)
    return TOKEN_SHAPES.sub(FILTERED, text)


def _scrub(value, secrets):
    if isinstance(value, str):
        return _scrub_text(value, secrets)
    if isinstance(value, bytes | bytearray):
        return FILTERED
    if isinstance(value, dict):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item, secrets) for item in value]
    return value


def before_send(event, hint):
    """Sentry's last look at an event: drop what may hold secrets, scrub the strings that remain."""
    request = event.get("request")
    if request:
        request.pop("cookies", None)
        request.pop("data", None)  # form fields, JSON and uploads: a sample's bytes, a token, a password
        headers = request.get("headers") or {}
        request["headers"] = {k: v for k, v in headers.items() if k.lower() not in SENSITIVE_HEADERS}
    for exception in (event.get("exception") or {}).get("values", []):
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    return _scrub(event, _known_secrets())


def init(dsn, *, environment=None):
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,
        before_send_transaction=before_send,
        before_breadcrumb=lambda crumb, hint: _scrub(crumb, _known_secrets()),
        traces_sample_rate=0.0,
    )
