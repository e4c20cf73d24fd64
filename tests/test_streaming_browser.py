"""The speak page plays a speech while it is made, then lists the stored take: Chromium, a live
server, and a sandbox that streams at the pace of speech, as the provider does."""

import pytest

from clones.models import Utterance
from sandbox.testing import running_sandbox
from tests.conftest import csp_checked_page, wait_until
from tests.test_browser import log_in

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = (
    "This sentence is heard while the rest is still being made. "
    "And this second part follows it without a gap, in its turn."
)


@pytest.fixture
def paced_sandbox(tmp_path, settings):
    with running_sandbox(tmp_path, stream_pace=1.0) as server:
        settings.BIGMODEL_BASE_URL = server.base_url
        yield server


def test_the_speak_page_plays_while_the_speech_is_made_and_then_lists_the_take(
    browser, live_server, paced_sandbox, user, settings, monkeypatch
):
    from clones import bigmodel

    monkeypatch.setattr(bigmodel, "SPEECH_MAX_CHARS", 70)  # two parts
    with csp_checked_page(browser) as page:
        log_in(page, live_server, user)
        page.goto(f"{live_server.url}/speak/")
        page.get_by_label("Text").fill(TEXT)
        page.get_by_label("Voice").select_option("jam")
        page.get_by_role("button", name="Speak").click()
        # Sound comes out while the utterance is still being spoken: nothing is stored yet.
        sounding = "() => window.voicecloneStream && window.voicecloneStream.context.currentTime > 1"
        wait_until(lambda: page.evaluate(sounding), 20)
        played = page.evaluate("() => window.voicecloneStream.state.received")
        assert played > 0.5
        utterance = Utterance.objects.get()
        assert utterance.status == "speaking" and not utterance.audio
        assert "s received" in page.locator("#stream-progress").inner_text()
        # The end: the take is stored once, and listed with its player and download link.
        wait_until(lambda: page.evaluate("() => document.getElementById('stream-progress').dataset.outcome"), 60)
        assert page.locator("#stream-progress").get_attribute("data-outcome") == "done"
        entry = page.locator("#utterances .utterance").first
        entry.locator("audio[src]").wait_for(state="attached", timeout=20_000)
        assert TEXT in entry.inner_text() and "Ready" in entry.inner_text()
        utterance.refresh_from_db()
        assert utterance.status == "ready" and utterance.parts == 2
        assert len(paced_sandbox.calls("audio.speech")) == 2
        # Heard through the end: the context played past the stored take's length minus the lead.
        wait_until(lambda: page.evaluate("() => window.voicecloneStream.context.currentTime") > utterance.duration, 30)


def test_a_refusal_before_the_stream_is_shown_on_the_form_in_the_page_language(
    browser, live_server, paced_sandbox, user, settings
):
    settings.QUOTA_SPEECH_CHARS_PER_DAY = 2
    with csp_checked_page(browser, locale="zh-CN") as page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("#id_username").fill(user.username)
        page.locator("#id_password").fill("correct horse battery")
        page.locator("form button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/")  # signed in, on the dashboard
        page.goto(f"{live_server.url}/speak/")
        page.locator("#id_text").fill("你好，世界。")
        page.locator("#id_voice").select_option("jam")
        page.locator("form.speech-form button[type=submit]").click()
        alert = page.locator(".stream-errors")
        alert.wait_for()
        assert "2" in alert.inner_text() and "字符" in alert.inner_text()
        assert page.locator("#stream-progress").is_hidden()
    assert not Utterance.objects.exists() and not paced_sandbox.calls("audio.speech")
