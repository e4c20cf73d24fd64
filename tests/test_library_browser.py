"""The voice cards' like and save buttons in a real browser: cached cards hold no form of their own, so
each button submits the page's one shared form (HTML's form= and formaction=), and must still work."""

import pytest
from django.urls import reverse

from library.models import Mark, VoiceStats
from tests.conftest import csp_checked_page
from tests.test_pages_browser import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_like_and_save_from_a_cached_card_in_the_gallery(browser, live_server, user, other_user, make_clone):
    voice = make_clone(owner=other_user, name="Likeable voice", visibility="public")
    VoiceStats.objects.create(clone=voice, likes=2)
    with csp_checked_page(browser) as page:
        sign_in(page.context, live_server, user)
        page.goto(live_server.url + reverse("clones:gallery") + "?q=Likeable")
        card = page.locator("article.voice-card", has_text="Likeable voice")
        card.get_by_role("button", name="Like", exact=True).click()
        page.wait_for_url("**/gallery/?q=Likeable")  # back where the visitor was, with the query
        card = page.locator("article.voice-card", has_text="Likeable voice")
        assert card.get_by_role("button", name="Like", exact=True).get_attribute("aria-pressed") == "true"
        assert "3 likes" in card.inner_text()
        card.get_by_role("button", name="Save", exact=True).click()
        page.wait_for_url("**/gallery/?q=Likeable")
        card = page.locator("article.voice-card", has_text="Likeable voice")
        assert card.get_by_role("button", name="Saved", exact=True).get_attribute("aria-pressed") == "true"
    assert set(Mark.objects.filter(user=user, clone=voice).values_list("kind", flat=True)) == {"like", "save"}
