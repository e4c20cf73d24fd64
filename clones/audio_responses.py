"""Serving stored audio: HTTP Range requests (seeking in a player), ETags and caching headers.

Files are read through Django's storage API only, so this works the same for local disk and S3.
"""

import hashlib
import re

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import parse_etags

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _etag(fieldfile, size):
    # Stored names are never reused for other content, so name and size identify the bytes.
    digest = hashlib.sha256(f"{fieldfile.name}:{size}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def _byte_range(header, size):
    """(start, end) inclusive for one satisfiable range; None for no range; ValueError if unsatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or "," in header:
        return None  # multiple or malformed ranges: the whole file is a valid answer (RFC 9110)
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            raise ValueError("empty suffix range")
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise ValueError("range not satisfiable")
    return start, end


def _stream(fieldfile, start, length):
    read_range = getattr(fieldfile.storage, "read_range", None)
    if read_range is not None:  # an object store: fetch only the bytes asked for (clones/storage.py)
        yield from read_range(fieldfile.name, start, length, CHUNK)
        return
    with fieldfile.open("rb") as handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


def _cache_control(public, changeable):
    # A clone's visibility (and share link) can change at any time, so its audio is kept a minute at
    # most and then asked for again: a 304 while it may still be seen, a 404 once it may not. Shared
    # caches may keep only public audio; anything access-checked stays in the browser.
    if public:
        return "public, max-age=60, must-revalidate"
    if changeable:
        return "private, max-age=60, must-revalidate"
    return "private, max-age=3600"


def audio_response(request, fieldfile, content_type, *, public, changeable=False):
    """Stream the file with Range support; `changeable`: who may hear it can change (a clone's preview)."""
    size = fieldfile.size
    etag = _etag(fieldfile, size)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Cache-Control": _cache_control(public, changeable),
        "Vary": "Cookie",
    }
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        return HttpResponse(status=304, headers=headers)
    try:
        byte_range = _byte_range(request.headers.get("Range"), size)
    except ValueError:
        return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if byte_range is not None and request.headers.get("If-Range", etag) != etag:
        byte_range = None  # the client's copy is stale: send it all
    start, end = byte_range or (0, size - 1)
    length = end - start + 1
    response = StreamingHttpResponse(
        _stream(fieldfile, start, length),
        status=206 if byte_range else 200,
        content_type=content_type,
        headers={**headers, "Content-Length": str(length)},
    )
    if byte_range:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
