"""A clone's audio leaves caches within a minute of its visibility changing."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from clones.models import Clone

pytestmark = pytest.mark.django_db


def _max_age(response):
    return int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1))


def test_public_preview_is_kept_by_shared_caches_a_minute_at_most_then_revalidated(make_clone):
    clone = make_clone(visibility=Clone.Visibility.PUBLIC)
    url = reverse("clones:preview", args=[clone.uuid])
    response = Client().get(url)
    assert "public" in response["Cache-Control"] and "must-revalidate" in response["Cache-Control"]
    assert _max_age(response) <= 60

    # While public, a revalidation is a cheap 304; once private, it is the same 404 as for no clone.
    etag = response["ETag"]
    assert Client().get(url, headers={"If-None-Match": etag}).status_code == 304
    clone.visibility = Clone.Visibility.PRIVATE
    clone.save()
    assert Client().get(url, headers={"If-None-Match": etag}).status_code == 404


def test_a_shared_preview_stays_in_the_browser_and_a_minute_at_most(make_clone):
    clone = make_clone(visibility=Clone.Visibility.UNLISTED)
    response = Client().get(reverse("clones:share_preview", args=[clone.share_token]))
    assert response.status_code == 200
    assert "private" in response["Cache-Control"] and _max_age(response) <= 60


def test_own_speech_stays_in_the_browser(client, user, make_clone):
    from django.core.files.base import ContentFile

    from clones.models import Utterance
    from tests.samples import wav_bytes

    utterance = Utterance.objects.create(owner=user, clone=make_clone(), text="Hi.", status=Utterance.Status.READY)
    utterance.audio.save("u.wav", ContentFile(wav_bytes(1)))
    client.force_login(user)
    response = client.get(reverse("clones:utterance_audio", args=[utterance.uuid]))
    assert response["Cache-Control"].startswith("private")
