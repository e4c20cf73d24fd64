"""Keyset ("cursor") pagination for the gallery, which must stay fast with a million public clones.

Django's Paginator counts every matching row and skips to a page with OFFSET, and both cost time in
proportion to the rows before the page. Here a page starts after (or before) the sort key of the
last (or first) row shown, which the database finds in the gallery's index at once, however deep.
The total is counted only up to COUNT_LIMIT rows (ten pages), a bounded cost; past that the page says "Page 7"
without "of N". The cursor carries the page number for display only; a made-up cursor shows a
different slice of public rows, nothing more, and a malformed one shows the first page.
"""

import base64
import json
import math
from datetime import datetime

from django.core.cache import cache
from django.db.models import Q

# Ten pages: enough to say "Page 2 of 7" for most searches, and a count that reads at most 241 rows.
COUNT_LIMIT = 240


def _encode(created_at, pk, number):
    raw = json.dumps([created_at.isoformat(), pk, number], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor):
    """Return (created_at, pk, page number) from a cursor, or None if it is not one of ours."""
    try:
        created_at, pk, number = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(pk, int) and isinstance(number, int) and number >= 1):
            return None
        return datetime.fromisoformat(created_at), pk, number
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


class KeysetPage:
    """One page of rows newest first, with the links to its neighbours; its attributes follow Django's Page."""

    def __init__(self, queryset, per_page, *, after=None, before=None, count_cache=None):
        self.per_page = per_page
        newest_first = queryset.order_by("-created_at", "-pk")
        after, before = after and _decode(after), before and _decode(before)
        if before:
            created_at, pk, number = before
            # Rows just newer than the cursor, oldest first, then turned round.
            rows = list(
                queryset.filter(Q(created_at__gt=created_at) | Q(created_at=created_at, pk__gt=pk))
                .filter(created_at__gte=created_at)
                .order_by("created_at", "pk")[: per_page + 1]
            )
            self._has_previous = len(rows) > per_page
            self.object_list = rows[:per_page][::-1]
            self._has_next = True
            self.number = max(1, number - 1) if self._has_previous else 1
        else:
            if after:
                created_at, pk, number = after
                # The first condition alone lets the index bound the scan; the second breaks ties.
                newest_first = newest_first.filter(created_at__lte=created_at).filter(
                    Q(created_at__lt=created_at) | Q(pk__lt=pk)
                )
                self.number = number + 1
            else:
                self.number = 1
            rows = list(newest_first[: per_page + 1])
            self._has_next = len(rows) > per_page
            self.object_list = rows[:per_page]
            self._has_previous = after is not None
        self.count = self._bounded_count(queryset, count_cache)

    def _bounded_count(self, queryset, count_cache):
        """The number of rows up to COUNT_LIMIT, else None. `count_cache` (key, seconds) keeps it that
        long: every page of one search shares the count, and "of 7" a few seconds old misleads nobody."""
        if count_cache and count_cache[1]:
            found = cache.get(count_cache[0], "missing")
            if found != "missing":
                return found
        # Counted even when the page shows everything, so every page costs the same number of queries.
        # Only the ids: the page's own columns and annotations (a viewer's likes) would be computed for nothing.
        count = queryset.order_by().values("pk")[: COUNT_LIMIT + 1].count()
        count = None if count > COUNT_LIMIT else count
        if count_cache and count_cache[1]:
            cache.set(count_cache[0], count, count_cache[1])
        return count

    @property
    def num_pages(self):
        """The number of pages, or None when there are more than COUNT_LIMIT rows."""
        return None if self.count is None else max(1, math.ceil(self.count / self.per_page))

    def has_next(self):
        return self._has_next

    def has_previous(self):
        return self._has_previous

    def has_other_pages(self):
        return self._has_next or self._has_previous

    @property
    def next_cursor(self):
        last = self.object_list[-1]
        return _encode(last.created_at, last.pk, self.number) if self._has_next else None

    @property
    def previous_cursor(self):
        first = self.object_list[0]
        return _encode(first.created_at, first.pk, self.number) if self._has_previous else None
