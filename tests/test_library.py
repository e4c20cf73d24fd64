"""The voice library: likes and saved voices (one per person), plays (one per visitor a day), uses,
sorting by them, showcase clips, and a gallery whose query count does not grow with any of it."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clones.models import Clone, Tag, Utterance
from library.models import Mark, Play, Showcase, VoiceStats
from tests.samples import wav_bytes

pytestmark = pytest.mark.django_db


def stats(clone):
    return VoiceStats.objects.filter(clone=clone).first() or VoiceStats(clone=clone)


def spoken(clone, owner, text="Hello there, from the showcase."):
    from django.core.files.base import ContentFile

    utterance = Utterance(owner=owner, clone=clone, text=text, status=Utterance.Status.READY, duration=1.0)
    utterance.audio.save("x.wav", ContentFile(wav_bytes(1)), save=False)
    utterance.save()
    return utterance


def test_one_like_per_person_and_a_second_press_takes_it_back(client, user, other_user, make_clone):
    clone = make_clone(owner=other_user, visibility="public")
    client.force_login(user)
    like = reverse("library:like", args=[clone.uuid])
    client.post(like)
    client.post(like, headers={"accept": "application/json"})  # a second press undoes it
    assert stats(clone).likes == 0 and not Mark.objects.exists()
    assert client.post(like, headers={"accept": "application/json"}).json() == {"on": True, "count": 1}
    # However it is sent, one person's like is one row (the constraint holds it).
    with pytest.raises(IntegrityError), transaction.atomic():
        Mark.objects.create(user=user, clone=clone, kind=Mark.Kind.LIKE)
    other = Client()
    other.force_login(other_user)
    other.post(like)
    assert stats(clone).likes == 2


def test_liking_needs_an_account_and_a_voice_one_may_see(client, user, other_user, make_clone):
    private = make_clone(owner=other_user, visibility="private")
    assert client.post(reverse("library:like", args=[private.uuid])).status_code == 302  # to the login page
    client.force_login(user)
    assert client.post(reverse("library:like", args=[private.uuid])).status_code == 404
    assert client.get(reverse("library:like", args=[private.uuid])).status_code == 405
    assert not Mark.objects.exists()


def test_saved_voices_are_listed_for_their_saver_only(client, user, other_user, make_clone):
    kept = make_clone(owner=other_user, name="Kept voice", visibility="public")
    make_clone(owner=other_user, name="Not kept", visibility="public")
    client.force_login(user)
    response = client.post(reverse("library:save", args=[kept.uuid]), {"next": reverse("clones:gallery")})
    assert response["Location"] == reverse("clones:gallery")
    page = client.get(reverse("library:saved")).text
    assert "Kept voice" in page and "Not kept" not in page
    assert 'aria-pressed="true">Saved<' in page
    assert stats(kept).saves == 1
    other = Client()
    other.force_login(other_user)
    assert "Kept voice" not in other.get(reverse("library:saved")).text


def test_a_save_does_not_send_people_off_site(client, user, make_clone):
    clone = make_clone(visibility="public")
    client.force_login(user)
    response = client.post(reverse("library:save", args=[clone.uuid]), {"next": "https://evil.example/"})
    assert response["Location"] == clone.get_absolute_url()


def test_plays_count_once_per_visitor_a_day(make_clone):
    clone = make_clone(visibility="public")
    play = reverse("library:play", args=[clone.uuid])
    visitor = Client(headers={"user-agent": "Browser A"})
    for _ in range(5):
        assert visitor.post(play).status_code == 204
    assert stats(clone).plays == 1
    Client(headers={"user-agent": "Browser B"}).post(play)  # another visitor
    assert stats(clone).plays == 2
    # Yesterday's play does not stop today's from counting.
    Play.objects.update(day=timezone.localdate() - timedelta(days=1))
    visitor.post(play)
    assert stats(clone).plays == 3


def test_plays_of_a_voice_one_may_not_see_are_not_counted(make_clone, other_user):
    private = make_clone(owner=other_user, visibility="private")
    assert Client().post(reverse("library:play", args=[private.uuid])).status_code == 404
    assert not VoiceStats.objects.exists()


def test_each_text_spoken_with_a_voice_counts_as_a_use(user, make_clone):
    clone = make_clone(visibility="public", allow_public_speech=True)
    Utterance.objects.create(owner=user, clone=clone, text="One.")
    Utterance.objects.create(owner=user, clone=clone, text="Two.")
    Utterance.objects.create(owner=user, system_voice="tongtong", text="Not this voice.")
    assert stats(clone).uses == 2


def test_gallery_sorts_by_newest_most_liked_and_most_used(client, make_clone):
    old = make_clone(name="Old but loved", visibility="public")
    Clone.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    used = make_clone(name="Much used", visibility="public")
    new = make_clone(name="Brand new", visibility="public")
    VoiceStats.objects.create(clone=old, likes=5)
    VoiceStats.objects.create(clone=used, likes=1, uses=9)

    def order(sort):
        page = client.get(reverse("clones:gallery"), {"sort": sort}).text
        return sorted([old.name, used.name, new.name], key=page.index)

    assert order("") == ["Brand new", "Much used", "Old but loved"]
    assert order("liked") == ["Old but loved", "Much used", "Brand new"]
    assert order("used") == ["Much used", "Old but loved", "Brand new"]


def test_cards_show_length_waveform_counts_and_use_this_voice(client, make_clone):
    speaking = make_clone(
        name="Open voice", visibility="public", allow_public_speech=True, preview_peaks=[0.2, 0.9, 0.4] * 40,
        preview_duration=7.4,
    )  # fmt: skip
    make_clone(name="Closed voice", visibility="public")
    VoiceStats.objects.create(clone=speaking, likes=3, plays=12, uses=1)
    page = client.get(reverse("clones:gallery")).text
    assert "0:07" in page and 'aria-label="Waveform of the preview, 0:07 long"' in page
    assert "3 likes" in page and "12 plays" in page and "1 use" in page
    assert page.count("Use this voice") == 1
    assert 'aria-label="Play Open voice"' in page
    # The search is a proper button, and the titles are links that look like links (site.css).
    assert '<button type="submit" class="primary">Search</button>' in page
    assert '<h2 class="card-title"><a href="' in page


def test_gallery_query_count_is_constant_with_likes_saves_and_showcases(client, user, make_clone):
    tag = Tag.objects.create(name="calm")

    def add(count):
        for n in range(count):
            clone = make_clone(name=f"Voice {n}", visibility="public")
            clone.tags.add(tag)
            Mark.toggle(user, clone, Mark.Kind.LIKE)
            Mark.toggle(user, clone, Mark.Kind.SAVE)
            Showcase.replace(clone, [spoken(clone, user)])

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    client.force_login(user)
    add(1)
    one = queries(reverse("clones:gallery"))
    add(29)
    assert queries(reverse("clones:gallery")) == one
    assert queries(reverse("clones:gallery") + "?sort=liked") == one
    assert queries(reverse("clones:gallery") + "?page=2") == one
    assert queries(reverse("library:saved")) <= one


def test_owner_picks_up_to_three_showcase_clips_that_anyone_may_hear(client, user, other_user, make_clone):
    clone = make_clone(visibility="public")
    clips = [spoken(clone, user, f"Clip number {n}.") for n in range(4)]
    strangers_speech = spoken(clone, other_user, "Not the owner's words.")
    client.force_login(user)
    url = reverse("library:showcase", args=[clone.uuid])

    client.post(url, {"clips": [c.pk for c in clips]})  # four is one too many
    assert not Showcase.objects.exists()
    client.post(url, {"clips": [strangers_speech.pk]})  # only the owner's own speech
    assert not Showcase.objects.exists()
    client.post(url, {"clips": [c.pk for c in clips[:2]]})
    assert Showcase.objects.filter(clone=clone).count() == 2

    visitor = Client()
    gallery = visitor.get(reverse("clones:gallery")).text
    assert "Clip number 1." in gallery and "2 more clips" in gallery
    clip = Showcase.objects.first()
    audio = visitor.get(reverse("library:showcase_audio", args=[clip.pk]))
    assert audio.status_code == 200 and b"".join(audio.streaming_content)[:4] == b"RIFF"

    other = Client()
    other.force_login(other_user)
    assert other.post(url, {"clips": []}).status_code == 404  # not theirs to change
    Clone.objects.filter(pk=clone.pk).update(visibility="private")
    assert visitor.get(reverse("library:showcase_audio", args=[clip.pk])).status_code == 404


def test_the_owner_picks_showcase_clips_on_the_clone_page(client, user, make_clone):
    clone = make_clone(visibility="public")
    clip = spoken(clone, user, "Pick me for the showcase.")
    client.force_login(user)
    page = client.get(clone.get_absolute_url()).text
    assert f'action="{reverse("library:showcase", args=[clone.uuid])}"' in page
    assert f'value="{clip.pk}"' in page and "Pick me for the showcase." in page


def test_most_liked_pages_by_number_in_the_sorts_order_and_newest_by_cursor(client, make_clone):
    """A created_at cursor cannot follow likes: the liked sort keeps its order across numbered pages."""
    clones = [make_clone(name=f"Voice {n:03}", visibility="public") for n in range(30)]
    # The oldest are the most liked, so the liked order is the reverse of newest first.
    VoiceStats.objects.bulk_create(VoiceStats(clone=clone, likes=100 - n) for n, clone in enumerate(clones))
    first = client.get(reverse("clones:gallery"), {"sort": "liked"}).text
    assert first.index("Voice 000") < first.index("Voice 023") and "Voice 024" not in first
    assert "page=2" in first and "after=" not in first and "Page 1 of 2" in first
    second = client.get(reverse("clones:gallery"), {"sort": "liked", "page": 2}).text
    assert "Voice 024" in second and "Voice 029" in second and "Voice 000" not in second
    newest = client.get(reverse("clones:gallery")).text
    assert "after=" in newest and "page=2" not in newest and "Voice 029" in newest


def test_a_card_is_rendered_once_then_served_from_the_cache_and_shows_every_change(client, user, make_clone):
    voice = make_clone(name="Cached voice", visibility="public")
    VoiceStats.objects.create(clone=voice, likes=3)
    first = client.get(reverse("clones:gallery"))
    assert "clones/_card.html" in [t.name for t in first.templates] and "3 likes" in first.text
    again = client.get(reverse("clones:gallery"))
    assert "clones/_card.html" not in [t.name for t in again.templates]
    start = first.text.index('<section class="gallery"')
    cards = slice(start, first.text.index("</section>", start))
    assert again.text[cards] == first.text[cards]
    # Anything the card shows is part of its key: a new count, name or tag is a new card at once.
    VoiceStats.objects.filter(clone=voice).update(likes=4)
    assert "4 likes" in client.get(reverse("clones:gallery")).text
    Clone.objects.filter(pk=voice.pk).update(name="Renamed voice")
    voice.tags.add(Tag.objects.create(name="warm"))
    page = client.get(reverse("clones:gallery")).text
    assert "Renamed voice" in page and "?tag=warm" in page and "Cached voice" not in page
    # A signed-in visitor's card differs (like and save buttons, their own state), so it is another entry.
    client.force_login(user)
    Mark.toggle(user, voice, Mark.Kind.LIKE)
    page = client.get(reverse("clones:gallery")).text
    assert 'aria-pressed="true">Like</button>' in page and "5 likes" in page


def test_cards_hold_nothing_per_visitor_their_buttons_submit_the_pages_one_form(client, user, other_user, make_clone):
    voice = make_clone(owner=other_user, name="Shared card", visibility="public")
    client.force_login(user)
    page = client.get(reverse("clones:gallery") + "?q=Shared").text
    like = reverse("library:like", args=[voice.uuid])
    assert f'form="card-actions" formaction="{like}"' in page
    shared = page[page.index('<form id="card-actions" method="post" hidden>') :]
    assert shared.index('name="csrfmiddlewaretoken"') < shared.index("</form>")
    assert 'name="next" value="/gallery/?q=Shared"' in page
    # The same card, cached, is what another signed-in visitor gets: no token or path of the first in it.
    card = page[page.index('<article class="voice-card">') : page.index("</article>")]
    assert "csrfmiddlewaretoken" not in card and "q=Shared" not in card


def test_signed_in_pages_share_the_searchs_count_for_as_long_as_a_page_is_cached(client, user, make_clone, settings):
    settings.GALLERY_CACHE_SECONDS = 10
    for n in range(3):
        make_clone(name=f"Counted {n}", visibility="public")
    client.force_login(user)

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url)
        return len(captured), page

    first, _ = queries(reverse("clones:gallery") + "?q=Counted")
    again, page = queries(reverse("clones:gallery") + "?q=Counted")
    assert again == first - 1 and "Counted 2" in page.text
    other, _ = queries(reverse("clones:gallery") + "?q=Count")  # another search counts its own rows
    assert other == first
