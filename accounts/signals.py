"""Signals about quotas, for apps that count them (metrics) without accounts knowing about them."""

from django.dispatch import Signal

# Sent by accounts.models.charge just before it raises QuotaExceeded; `code` is the exception's code.
quota_refused = Signal()
