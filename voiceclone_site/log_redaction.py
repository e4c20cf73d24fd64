"""Share tokens never reach the logs: the token segment of /s/<token>/... is replaced before a line is written.

A share token is the whole secret of an unlisted clone, so an access log that holds one hands the
clone to whoever reads the log. Request lines, paths and Referer headers (the share page's audio
is requested with the page as its referer) all carry it. `make run` logs requests through the
`django.server` logger, filtered here; gunicorn's access log uses `gunicorn.conf.py`'s logger class,
which calls `redact`.
"""

import logging
import re

REDACTED = "<token>"
# "/s/" at the start of a path: after the start of the text, a space or quote (a request line), or a
# host name (a full URL, as in Referer).
_SHARE_PATH = re.compile(r"""((?:^|[\s"'=]|//[^/\s"']+)/s/)[^/?#\s"']+""")


def redact(text):
    """Return `text` with the token of every share path replaced."""
    if "/s/" not in text:
        return text
    return _SHARE_PATH.sub(rf"\g<1>{REDACTED}", text)


class RedactShareTokens(logging.Filter):
    """A handler filter: the record's message, once formatted, has no share token left in it."""

    def filter(self, record):
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
