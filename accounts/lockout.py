"""django-axes' failure limit, per username and address and, higher, per address across usernames.

Axes counts failures per (username, address) pair, as AXES_LOCKOUT_PARAMETERS says; that alone lets
one address try a few passwords against every username. Adding "ip_address" to the parameters would
count the address too, but a successful login resets every parameter's count, so an attacker could
clear their address's count by logging in to an account of their own. So the pairs stay the only
parameter, and this limit reads the address's failures across all pairs, which no login resets.
"""

from axes.attempts import get_cool_off_threshold
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

# Past the address's limit every username is locked for it: a limit of 0 is reached by any count.
LOCKED = 0


def failure_limit(request, credentials):
    """Return the number of failures that locks this login attempt out (see the module's docstring)."""
    address = getattr(request, "axes_ip_address", None)
    failures = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=get_cool_off_threshold(request))
    per_address = failures.aggregate(total=Sum("failures_since_start"))["total"] or 0
    if per_address >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS:
        return LOCKED
    return settings.LOGIN_FAILURE_LIMIT
