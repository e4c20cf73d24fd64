"""In a real browser (Debian's Chromium driven by Playwright): clone a voice, hear it, share it."""

import pytest

from tests.conftest import wait_until
from tests.samples import wav_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def create_clone(page, live_server, tmp_path, name):
    sample = tmp_path / "my-voice.wav"
    sample.write_bytes(wav_bytes(5, f0=210))
    page.goto(f"{live_server.url}/clones/new/")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Voice sample").set_input_files(str(sample))
    page.get_by_label("Preview text").fill("Hello from the browser test.")
    page.get_by_label("I have the right to clone this voice").check()
    page.get_by_role("button", name="Clone this voice").click()
    page.wait_for_url("**/clones/*/")


def wait_for_js(page, expression, timeout=30):
    """Poll an expression with page.evaluate: wait_for_function evals strings, which our CSP forbids."""
    wait_until(lambda: page.evaluate(expression), timeout=timeout)


def wait_for_playable_audio(page):
    # readyState >= 1: the browser fetched the audio and read its metadata.
    wait_for_js(page, "document.getElementById('preview-audio').readyState >= 1")
    return page.evaluate("document.getElementById('preview-audio').duration")


def test_clone_a_voice_and_follow_its_progress(page, live_server, sandbox, celery_worker, user, tmp_path):
    # A slow clone call, so that the page has time to show the step in progress.
    sandbox.set_faults([{"route": "voice.clone", "action": "delay", "latency": 2.5}])
    log_in(page, live_server, user)
    create_clone(page, live_server, tmp_path, "Browser voice")

    assert page.get_by_role("heading", name="Browser voice").is_visible()
    # The page follows the clone without a reload: first the clone step, then ready.
    page.locator("#status-label", has_text="Cloning voice").wait_for(timeout=30_000)
    assert page.locator("li.current", has_text="Cloning voice").is_visible()
    assert not page.get_by_role("heading", name="Fidelity lab").is_visible()  # no empty card meanwhile
    page.locator("#status-label", has_text="Ready").wait_for(timeout=60_000)
    # The lab's panel comes once the clone is done, still without a reload.
    page.get_by_role("link", name="Take the blind test").wait_for(timeout=30_000)
    assert page.get_by_role("heading", name="Fidelity lab").is_visible()
    page.locator("#preview-audio").wait_for(state="visible")
    assert page.locator("svg.waveform.preview rect").count() > 50  # the preview's waveform, drawn at once
    assert wait_for_playable_audio(page) > 0.5
    # A preview came, so nothing offers to fetch it again (a form inside a <p> used to escape its hiding).
    assert not page.get_by_role("button", name="Try again").is_visible()
    page.reload()
    assert not page.get_by_role("button", name="Try again").is_visible()


def test_share_an_unlisted_clone_by_link(page, browser, live_server, sandbox, celery_worker, user, tmp_path):
    log_in(page, live_server, user)
    create_clone(page, live_server, tmp_path, "Shared voice")
    page.locator("#status-label", has_text="Ready").wait_for(timeout=60_000)

    page.get_by_label("Who can see it", exact=True).select_option("unlisted")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    share_url = page.locator("#share-url").input_value()

    stranger = browser.new_context(locale="en-US")
    try:
        shared = stranger.new_page()
        shared.goto(share_url)
        assert shared.get_by_role("heading", name="Shared voice").is_visible()
        assert shared.locator('meta[property="og:title"]').get_attribute("content") == "Shared voice"
        assert wait_for_playable_audio(shared) > 0.5
        shared.evaluate("document.getElementById('preview-audio').play()")
        wait_for_js(shared, "document.getElementById('preview-audio').currentTime > 0.2")
        # The clone's own page stays closed to a stranger.
        assert shared.goto(page.url).status == 404
    finally:
        stranger.close()


def test_a_clone_without_a_preview_is_ready_and_its_owner_fetches_it_again(
    page, live_server, sandbox, celery_worker, user, tmp_path
):
    # No route gives a preview: the download is refused, file content serves batch files only, and
    # speaking the preview text is refused too.
    sandbox.set_faults(
        [
            {"route": "voice.clone", "action": "delay", "latency": 1.5},
            {"route": "download", "action": "error", "status": 404, "times": None},
            {"route": "audio.speech", "action": "error", "status": 400, "code": "1214", "times": None},
        ]
    )
    log_in(page, live_server, user)
    create_clone(page, live_server, tmp_path, "No preview yet")
    # Followed without a reload: ready, with the preview unavailable, never "failed".
    page.locator("#status-label", has_text="Ready").wait_for(timeout=60_000)
    page.locator("#preview-unavailable").wait_for(state="visible", timeout=10_000)
    assert page.locator("#failure").is_hidden()
    assert page.locator("#speech").is_visible()  # the voice itself works

    sandbox.clear_faults()
    page.get_by_role("button", name="Try again").click()
    page.get_by_text("Fetching the preview again.").wait_for()
    page.locator("#status-label", has_text="Ready").wait_for(timeout=60_000)
    page.locator("#preview-audio").wait_for(state="visible")
    assert wait_for_playable_audio(page) > 0.5
    assert page.locator("#preview-unavailable").is_hidden()
    assert page.get_by_text("marked as AI-generated").first.is_visible()
