"""In a real browser (Debian's Chromium driven by Playwright): clone a voice and hear the preview."""

import pytest

from tests.samples import wav_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]


def test_clone_a_voice_and_play_the_preview(page, live_server, sandbox, celery_worker, tmp_path):
    sample = tmp_path / "my-voice.wav"
    sample.write_bytes(wav_bytes(5, f0=210))

    # A slow clone call, so that the page has time to show the step in progress.
    sandbox.set_faults([{"route": "voice.clone", "action": "delay", "latency": 2.5}])
    page.goto(live_server.url)
    page.get_by_label("Name").fill("Browser voice")
    page.get_by_label("Voice sample").set_input_files(str(sample))
    page.get_by_label("Preview text").fill("Hello from the browser test.")
    page.get_by_role("button", name="Clone this voice").click()

    page.wait_for_url("**/clones/*/")
    assert page.get_by_role("heading", name="Browser voice").is_visible()
    # The page follows the clone without a reload: first the clone step, then ready.
    page.locator("#status-label", has_text="Cloning voice").wait_for(timeout=30_000)
    assert page.locator("li.current", has_text="Cloning voice").is_visible()
    page.locator("#status-label", has_text="Ready").wait_for(timeout=60_000)

    audio = page.locator("#preview-audio")
    audio.wait_for(state="visible")
    # readyState >= 1 means the browser fetched the preview and read its metadata.
    page.wait_for_function("document.getElementById('preview-audio').readyState >= 1")
    duration = page.evaluate("document.getElementById('preview-audio').duration")
    assert duration > 0.5
