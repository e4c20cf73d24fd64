"""The home page: for visitors, what Voiceclone does with voices to hear; for people signed in, their work."""

import pytest
from django.urls import reverse

from clones.models import Utterance
from library.models import VoiceStats

pytestmark = pytest.mark.django_db


def test_visitors_learn_what_it_does_and_hear_the_best_liked_voices(client, make_clone, other_user):
    quiet = make_clone(owner=other_user, name="Quiet voice", visibility="public")
    for n in range(3):
        loved = make_clone(owner=other_user, name=f"Loved voice {n}", visibility="public")
        VoiceStats.objects.create(clone=loved, likes=10 + n)
    make_clone(owner=other_user, name="Hidden voice", visibility="private")
    page = client.get(reverse("home")).text
    assert "Clone a voice from a short recording. Make it say anything." in page
    assert f'href="{reverse("clones:create")}"' in page
    assert all(f"Loved voice {n}" in page for n in range(3))
    assert quiet.name not in page and "Hidden voice" not in page  # three featured, the most liked
    assert page.index("Loved voice 2") < page.index("Loved voice 0")
    assert 'class="play-button"' in page


def test_the_sandbox_is_explained_in_sandbox_mode(client, settings):
    settings.BIGMODEL_SANDBOX = True
    assert "This is the sandbox" in client.get(reverse("home")).text
    settings.BIGMODEL_SANDBOX = False
    assert "This is the sandbox" not in client.get(reverse("home")).text


def test_people_signed_in_land_on_their_voices_and_recent_speech(client, user, make_clone):
    clone = make_clone(name="My own voice")
    Utterance.objects.create(owner=user, clone=clone, text="Something I had it say.")
    response = client.post(reverse("login"), {"username": "ada", "password": "correct horse battery"})
    assert response["Location"] == reverse("home")
    page = client.get(reverse("home")).text
    assert "Welcome back, ada" in page and "My own voice" in page and "Something I had it say." in page
    assert "Clone a voice from a short recording" not in page


def test_the_gallery_lives_at_its_own_address(client, make_clone):
    make_clone(name="Listed", visibility="public")
    assert "Listed" in client.get("/gallery/").text
