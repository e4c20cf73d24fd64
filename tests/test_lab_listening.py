"""Blind A/B rounds: the sample and the preview in a hidden order, the answer before the result, tallied per take."""

import pytest
from django.urls import reverse

from clones.models import Clone
from lab.models import ListeningRound
from tests.samples import wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def clone(make_clone):
    return make_clone(visibility=Clone.Visibility.UNLISTED, preview=wav_bytes(3, f0=200))


def start_round(client, url):
    response = client.post(url)
    assert response.status_code == 302
    return ListeningRound.objects.get(uuid=response["Location"].split("/")[-2])


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_and_b_are_the_sample_and_the_preview_in_the_rounds_hidden_order(client, user, clone):
    client.force_login(user)
    sides = set()
    for _ in range(12):
        listening = start_round(client, reverse("lab:listen", args=[clone.uuid]))
        sides.add(listening.original_is)
        original = body(client.get(listening.audio_url(listening.original_is)))
        other = body(client.get(listening.audio_url("b" if listening.original_is == "a" else "a")))
        assert original == clone.sample.open("rb").read()
        assert other == clone.preview_audio.open("rb").read()
    assert sides == {"a", "b"}  # both orders occur (1 in 2,048 chance of failing by luck)


def test_the_result_shows_only_after_the_answer_and_a_second_answer_changes_nothing(client, user, clone):
    client.force_login(user)
    listening = start_round(client, reverse("lab:listen", args=[clone.uuid]))
    page = client.get(listening.get_absolute_url()).content.decode()
    assert "A is the original" in page and "The original was" not in page

    wrong = "b" if listening.original_is == "a" else "a"
    client.post(listening.get_absolute_url(), {"answer": wrong})
    client.post(listening.get_absolute_url(), {"answer": listening.original_is})
    listening.refresh_from_db()
    assert listening.answer == wrong and listening.correct is False

    page = client.get(listening.get_absolute_url()).content.decode()
    assert "That was the clone: it passed for the original." in page
    assert "So far 1 of 1 listener could not tell the clone from the original." in page


def test_results_accumulate_on_the_clone_page(client, user, clone):
    client.force_login(user)
    for correct in (True, False, False):
        listening = start_round(client, reverse("lab:listen", args=[clone.uuid]))
        answer = listening.original_is if correct else ("b" if listening.original_is == "a" else "a")
        client.post(listening.get_absolute_url(), {"answer": answer})

    page = client.get(clone.get_absolute_url()).content.decode()
    assert "2 of 3 listeners could not tell the clone from the original." in page
    assert "The similarity score is turned off on this site." in page  # as the test settings have it


def test_anyone_with_the_share_link_may_listen_to_an_unlisted_clone(client, clone):
    listening = start_round(client, reverse("lab:listen_shared", args=[clone.share_token]))
    assert client.get(listening.get_absolute_url()).status_code == 200
    client.post(listening.get_absolute_url(), {"answer": "a"})
    assert ListeningRound.objects.get(pk=listening.pk).is_answered
    # Without the link an unlisted clone stays hidden.
    assert client.post(reverse("lab:listen", args=[clone.uuid])).status_code == 404


def test_a_private_clone_cannot_be_listened_to_by_others(client, other_user, make_clone):
    private = make_clone(visibility=Clone.Visibility.PRIVATE)
    client.force_login(other_user)
    assert client.post(reverse("lab:listen_shared", args=[private.share_token])).status_code == 404
    assert client.post(reverse("lab:listen", args=[private.uuid])).status_code == 404
    # Nor a round someone else started on it.
    listening = ListeningRound.start(private, private.owner, shared=False)
    assert client.get(listening.get_absolute_url()).status_code == 404
    assert client.get(listening.audio_url("a")).status_code == 404
    assert not ListeningRound.objects.filter(listener=other_user).exists()


@pytest.fixture
def two_takes(make_clone):
    from lab.takes import add_take

    first = make_clone(name="Take one", visibility=Clone.Visibility.UNLISTED, preview=wav_bytes(2, f0=150))
    second = make_clone(name="Take two", visibility=Clone.Visibility.UNLISTED, preview=wav_bytes(3, f0=250))
    add_take(first, second)
    return first, second


def test_two_takes_play_as_a_and_b_and_the_preferred_one_is_tallied(client, user, two_takes):
    first, second = two_takes
    client.force_login(user)
    page = client.get(reverse("lab:listen", args=[first.uuid])).content.decode()
    assert "Compare two takes" in page and str(second.uuid) in page

    listening = start_round(client, reverse("lab:listen", args=[first.uuid]))
    assert listening.other is None
    response = client.post(reverse("lab:listen", args=[first.uuid]), {"other": str(second.uuid)})
    listening = ListeningRound.objects.get(uuid=response["Location"].split("/")[-2])
    assert listening.other == second

    first_side = listening.original_is
    second_side = "b" if first_side == "a" else "a"
    assert body(client.get(listening.audio_url(first_side))) == first.preview_audio.open("rb").read()
    assert body(client.get(listening.audio_url(second_side))) == second.preview_audio.open("rb").read()
    page = client.get(listening.get_absolute_url()).content.decode()
    assert "Which one sounds more like the speaker?" in page
    assert body(client.get(reverse("lab:round_reference", args=[listening.uuid]))) == first.sample.open("rb").read()

    client.post(listening.get_absolute_url(), {"answer": second_side})
    page = client.get(listening.get_absolute_url()).content.decode()
    assert "You chose take 2." in page
    second_page = client.get(second.get_absolute_url()).content.decode()
    assert "Against other takes, listeners preferred this one in 1 of 1 comparison." in second_page
    first_page = client.get(first.get_absolute_url()).content.decode()
    assert "preferred this one in 0 of 1 comparison." in first_page
    # Take rounds do not count as original-against-clone rounds.
    assert first.listening_rounds.tally()["answered"] == 0


def test_a_private_take_is_not_compared_through_anothers_share_link(client, two_takes):
    first, second = two_takes
    Clone.objects.filter(pk=second.pk).update(visibility=Clone.Visibility.PRIVATE)
    page = client.get(reverse("lab:listen_shared", args=[first.share_token])).content.decode()
    assert str(second.uuid) not in page
    response = client.post(reverse("lab:listen_shared", args=[first.share_token]), {"other": str(second.uuid)})
    assert response.status_code == 404 and not ListeningRound.objects.exists()
    # A reference track is only for take rounds: in an original round the sample is a hidden side.
    listening = start_round(client, reverse("lab:listen_shared", args=[first.share_token]))
    assert client.get(reverse("lab:round_reference", args=[listening.uuid])).status_code == 404
