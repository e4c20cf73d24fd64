"""A page cache for anonymous visitors whose pages carry a CSRF token (the header's language form).

Django's cache_page cannot share such pages: the token differs per visitor and CSRF adds Vary: Cookie.
So the page is kept with a placeholder where the token goes, and each visitor's own is put back in.
User text is escaped, so nothing but Django's own hidden field can contain that attribute.
"""

import functools
import hashlib
import re

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

_CSRF_VALUE = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')
_CSRF_PLACEHOLDER = b'name="csrfmiddlewaretoken" value="@csrf@"'


def cache_for_anonymous(seconds_setting):
    """Serve anonymous visitors a page rendered at most settings.<seconds_setting> seconds ago."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            seconds = getattr(settings, seconds_setting)
            if not seconds or request.user.is_authenticated or get_messages(request):
                return view(request, *args, **kwargs)
            query = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:32]
            key = f"page:{view.__name__}:{get_language()}:{query}"
            cached = cache.get(key)
            if cached is None:
                response = view(request, *args, **kwargs)
                if response.status_code != 200:
                    return response
                cached = _CSRF_VALUE.sub(_CSRF_PLACEHOLDER, response.content)
                cache.set(key, cached, seconds)
                return response
            token = b'name="csrfmiddlewaretoken" value="%s"' % get_token(request).encode()
            return HttpResponse(cached.replace(_CSRF_PLACEHOLDER, token))

        return wrapper

    return decorator
