"""The public gallery: newest first, paginated, searchable, filterable, with a constant query count."""

import html
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clones.models import Clone, Tag

pytestmark = pytest.mark.django_db


def make_public(make_clone, count, **fields):
    tag, _ = Tag.objects.get_or_create(name="narrator")
    clones = []
    for n in range(count):
        clone = make_clone(name=f"Voice {n:03}", visibility="public", preview=b"RIFF0000WAVE", **fields)
        clone.tags.add(tag)
        clones.append(clone)
    return clones


def older_link(page):
    """The gallery's "Older" link: pages follow a cursor, not a page number."""
    return reverse("clones:gallery") + html.unescape(re.search(r'href="(\?[^"]*after=[^"]+)"', page).group(1))


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_count_is_constant_from_1_to_100_clones(client, make_clone):
    make_public(make_clone, 1)
    with_one = queries_for(client, reverse("clones:gallery"))
    make_public(make_clone, 99)
    with_hundred = queries_for(client, reverse("clones:gallery"))
    second_page = queries_for(client, older_link(client.get(reverse("clones:gallery")).text))
    assert with_one == with_hundred == second_page


def test_newest_first_and_paginated(client, make_clone):
    make_public(make_clone, 30)
    first = client.get(reverse("clones:gallery")).text
    assert first.index("Voice 029") < first.index("Voice 006") and "Voice 005" not in first
    assert "Page 1 of 2" in first
    assert "Voice 005" in client.get(older_link(first)).text


def test_search_by_name_and_filter_by_language_and_tag(client, make_clone):
    make_clone(name="Calm narrator", visibility="public", language="en")
    chinese = make_clone(name="温柔女声", visibility="public", language="zh")
    chinese.tags.add(Tag.objects.create(name="gentle"))
    gallery = reverse("clones:gallery")
    assert "Calm narrator" in client.get(gallery, {"q": "calm"}).text
    assert "温柔女声" not in client.get(gallery, {"q": "calm"}).text
    by_language = client.get(gallery, {"language": "zh"}).text
    assert "温柔女声" in by_language and "Calm narrator" not in by_language
    by_tag = client.get(gallery, {"tag": "Gentle"}).text
    assert "温柔女声" in by_tag and "Calm narrator" not in by_tag


def test_deleting_clones_leave_the_gallery(client, make_clone):
    (clone,) = make_public(make_clone, 1)
    Clone.objects.filter(pk=clone.pk).update(deletion_requested_at="2026-01-01T00:00Z")
    assert "Voice 000" not in client.get(reverse("clones:gallery")).text


def test_anonymous_visitors_share_a_briefly_cached_page_with_their_own_csrf_token(client, make_clone, user, settings):
    settings.GALLERY_CACHE_SECONDS = 60
    cache.clear()
    make_public(make_clone, 1)
    gallery = reverse("clones:gallery")
    assert "Voice 000" in client.get(gallery).text  # rendered, and kept
    make_clone(name="Brand new", visibility="public")

    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(gallery).text
    assert "Voice 000" in page and "Brand new" not in page  # the kept page
    # Its language form carries this visitor's own token, which the CSRF check accepts.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert token != "@csrf@"
    switched = visitor.post(reverse("set_language"), {"language": "zh-hans", "next": "/", "csrfmiddlewaretoken": token})
    assert switched.status_code == 302
    assert "Brand new" in visitor.get(gallery).text  # another language: another page

    client.force_login(user)
    assert "Brand new" in client.get(gallery).text  # signed-in people always get a fresh page
    cache.clear()
