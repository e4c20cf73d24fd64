"""Record a voice sample in the browser, through Chromium's fake microphone, and clone it."""

import re
import time

import numpy as np
import pytest

from clones.models import Clone
from sandbox import voice
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, csp_checked_page, wait_until
from tests.test_browser import log_in, wait_for_js, wait_for_playable_audio
from tests.test_pages_browser import focus_by_tab

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]

READ_ALOUD = (
    "Hello, and thanks for listening. On a bright Thursday morning I walked to the old market "
    "for fresh bread, sweet oranges and a cup of strong coffee."
)


def speech_wav_48k():
    """eSpeak reading a few sentences, at the 48 kHz Chromium's fake capture expects."""
    samples = voice.synthesize(READ_ALOUD, f0=140)
    samples = voice._resample(samples, voice.OUTPUT_RATE, 48_000)
    return voice.to_wav(0.5 * samples / np.max(np.abs(samples)), 48_000)


@pytest.fixture(scope="module")
def microphone_browser(browser, tmp_path_factory):
    """A second Chromium whose microphone hears the speech above, allowed without a prompt."""
    wav = tmp_path_factory.mktemp("microphone") / "speech.wav"
    wav.write_bytes(speech_wav_48k())
    mic = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}",
        ],
    )
    yield mic
    mic.close()


@pytest.fixture
def mic_page(microphone_browser):
    with csp_checked_page(microphone_browser) as page:
        yield page


def level_meter_widths(page, seconds=1.5):
    widths = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        widths.append(float(page.evaluate("document.getElementById('record-level').style.width || '0'").rstrip("%")))
        time.sleep(0.1)
    return widths


def test_record_a_sample_check_it_hear_it_and_clone_it(mic_page, live_server, sandbox, celery_worker, user, settings):
    settings.BIGMODEL_SANDBOX = False  # speech recognition, which sandbox mode leaves out, is used below
    page = mic_page
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}/clones/new/")
    # A file that is not audio is refused at once, under the field, in the server's words.
    page.get_by_label("Voice sample").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just some notes"}]
    )
    errors = page.locator("#sample-errors")
    errors.get_by_text("This is a text file or web page, not an audio recording.").wait_for()

    page.get_by_role("tab", name="Record").click()
    assert page.get_by_text("Can you believe how quiet the streets were?").is_visible()

    page.get_by_role("button", name="Record", exact=True).click()
    # Under the 3 s minimum: a countdown, and no way to stop yet.
    page.get_by_text("Keep going: 2 s to the 3 s minimum.").wait_for()
    assert page.get_by_role("button", name="Stop").is_disabled()
    # The meter follows the voice: it moves, and speech reaches well above silence.
    widths = level_meter_widths(page)
    assert len(set(widths)) > 3 and max(widths) > 30, widths
    page.locator("#record-timer", has_text="0:05").wait_for()
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Recorded. Listen to it below").wait_for()

    name, kind, size = page.evaluate(
        "(() => { const f = document.querySelector('[name=sample]').files[0]; return [f.name, f.type, f.size]; })()"
    )
    assert (name, kind) == ("recording.webm", "audio/webm") and size > 10_000
    assert errors.is_hidden()

    # The quality report comes back before submitting, measured by the server on the recording itself.
    report = page.locator("#sample-report")
    report.locator(".report-facts").wait_for()
    facts = dict(zip(report.locator("dt").all_inner_texts(), report.locator("dd").all_inner_texts(), strict=True))
    assert 4 <= float(facts["Duration"].removesuffix(" s")) <= 7, facts
    assert float(facts["Speech"].removesuffix(" s")) > 2, facts
    assert re.fullmatch(r"-\d+(\.\d)? LUFS", facts["Loudness"]), facts
    assert report.locator(".verdict").inner_text() in ("Good", "Fair", "Poor")
    assert report.locator(".advice li").count() >= 1

    # Transcript help takes the recording like a file.
    page.get_by_role("button", name="Fill in the transcript from the sample").click()
    wait_until(lambda: page.get_by_label("Transcript (optional)").input_value())

    # Played back before submitting.
    page.evaluate("document.getElementById('sample-playback').play()")
    wait_for_js(page, "document.getElementById('sample-playback').currentTime > 0.5")
    page.evaluate("document.getElementById('sample-playback').pause()")

    page.get_by_label("Name").fill("Recorded voice")
    page.get_by_label("Preview text").fill("Hello from my recorded voice.")
    page.get_by_label("I have the right to clone this voice").check()
    page.get_by_role("button", name="Clone this voice").click()
    page.wait_for_url("**/clones/*/")
    page.locator("#status-label", has_text="Ready").wait_for(timeout=60_000)
    assert wait_for_playable_audio(page) > 0.5

    clone = wait_until(lambda: Clone.objects.filter(name="Recorded voice", status=Clone.Status.READY).first())
    assert 4 <= clone.sample_duration <= 7


def test_record_a_sample_with_the_keyboard_alone(mic_page, live_server, user):
    page = mic_page
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}/clones/new/")
    focus_by_tab(page, "#mode-record")
    page.keyboard.press("Enter")
    focus_by_tab(page, "#record-start")
    page.keyboard.press("Enter")
    page.locator("#record-timer", has_text="0:04").wait_for()
    focus_by_tab(page, "#record-stop")
    page.keyboard.press("Enter")
    page.get_by_text("Recorded. Listen to it below").wait_for()
    assert page.evaluate("document.querySelector('[name=sample]').files[0].size") > 10_000
