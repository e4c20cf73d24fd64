"""Webhook signatures: HMAC-SHA256 over the timestamp and the exact body, as Stripe-style receivers expect.

The header reads `Voiceclone-Signature: t=1764500000,v1=<hex>`, where the hex digest is
HMAC-SHA256(secret, f"{t}.{body}"). Signing the timestamp with the body lets a receiver refuse a
replayed request: an old timestamp cannot be swapped for a fresh one without the secret.
"""

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Voiceclone-Signature"
# How old a signed timestamp a receiver should accept; our own verify() uses it too.
TOLERANCE_SECONDS = 300


def new_secret():
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret, timestamp, body):
    """Return the header value for `body` (bytes) sent at `timestamp` (whole seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret, header, body, *, now=None, tolerance=TOLERANCE_SECONDS):
    """Return True if `header` signs `body` with `secret` and is recent; what a receiver runs."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
