"""Sibling takes: "clone again from another stretch" makes a new clone of the same voice, charged, grouped."""

import pytest
from django.urls import reverse

from accounts.models import Usage
from clones.models import Clone
from lab.models import Take
from tests.test_lab_assembly import recording

pytestmark = pytest.mark.django_db


@pytest.fixture
def joined_clone(client, user, django_capture_on_commit_callbacks):
    client.force_login(user)
    form = {
        "name": "Joined voice",
        "preview_text": "Hello from three recordings.",
        "language": "en",
        "visibility": "private",
        "consent": "on",
        "recordings": [recording(i) for i in range(3)],
    }
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("lab:new"), form)
    clone = Clone.objects.get()
    Clone.objects.filter(pk=clone.pk).update(status=Clone.Status.READY)
    clone.refresh_from_db()
    return clone


def test_cloning_again_makes_a_charged_sibling_from_other_stretches(
    client, joined_clone, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = client.post(reverse("lab:again", args=[joined_clone.uuid]))

    sibling = Clone.objects.exclude(pk=joined_clone.pk).get()
    assert response.status_code == 302 and response["Location"] == sibling.get_absolute_url()
    assert len(enqueued) == 1 and Usage.objects.filter(kind="clone").count() == 2
    assert sibling.voice_name != joined_clone.voice_name and sibling.preview_text == joined_clone.preview_text
    # Other speech first: the sibling's stretches start elsewhere than the first take's.
    first = [(p.position, s["start"]) for p in joined_clone.sample_parts.all() for s in p.stretches if s["at"] == 0]
    second = [(p.position, s["start"]) for p in sibling.sample_parts.all() for s in p.stretches if s["at"] == 0]
    assert first != second
    with joined_clone.sample.open("rb") as a, sibling.sample.open("rb") as b:
        assert a.read() != b.read()
    # Grouped as one voice: the first take is the main one.
    takes = list(Take.objects.order_by("number"))
    assert [(t.clone_id, t.number, t.is_main) for t in takes] == [(joined_clone.pk, 1, True), (sibling.pk, 2, False)]
    assert takes[0].voice_id == takes[1].voice_id


def test_the_owner_can_make_another_take_the_main_one(client, joined_clone):
    client.post(reverse("lab:again", args=[joined_clone.uuid]))
    sibling = Clone.objects.exclude(pk=joined_clone.pk).get()

    client.post(reverse("lab:main", args=[sibling.uuid]))

    assert list(Take.objects.filter(is_main=True).values_list("clone_id", flat=True)) == [sibling.pk]
    page = client.get(joined_clone.get_absolute_url()).content.decode()
    assert "Take 2" in page and "Make this the main take" in page


def test_only_the_owner_can_clone_again(client, other_user, joined_clone):
    client.force_login(other_user)
    assert client.post(reverse("lab:again", args=[joined_clone.uuid])).status_code == 404
    assert Clone.objects.count() == 1 and Usage.objects.filter(kind="clone").count() == 1


def test_the_gallery_shows_only_the_main_take_of_a_voice(client, joined_clone):
    client.post(reverse("lab:again", args=[joined_clone.uuid]))
    sibling = Clone.objects.exclude(pk=joined_clone.pk).get()
    Clone.objects.update(visibility=Clone.Visibility.PUBLIC, status=Clone.Status.READY)

    assert list(Clone.objects.gallery()) == [joined_clone]
    client.post(reverse("lab:main", args=[sibling.uuid]))
    assert list(Clone.objects.gallery()) == [sibling]


def test_the_speak_page_offers_a_voice_by_its_main_take(client, joined_clone):
    client.post(reverse("lab:again", args=[joined_clone.uuid]))
    sibling = Clone.objects.exclude(pk=joined_clone.pk).get()
    Clone.objects.update(status=Clone.Status.READY, voice_id="v")
    client.post(reverse("lab:main", args=[sibling.uuid]))

    page = client.get(reverse("clones:speak")).content.decode()
    assert f'value="{sibling.uuid}"' in page and f'value="{joined_clone.uuid}"' not in page
    # The other take still speaks from its own page.
    assert client.get(joined_clone.get_absolute_url()).context["speech_form"] is not None
