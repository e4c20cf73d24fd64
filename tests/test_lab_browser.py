"""The lab in a real browser: three recordings joined, a blind A/B round answered, the score on the clone page."""

import pytest

from clones.models import Clone
from lab.models import ListeningRound, SimilarityScore
from tests.conftest import start_worker, stop_worker, wait_until
from tests.test_browser import log_in, wait_for_js
from tests.voices import SENTENCES, speech_wav

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def recordings(tmp_path, count, noise=0.0):
    paths = []
    for index in range(count):
        path = tmp_path / f"reading-{index}.wav"
        text = f"{SENTENCES[index]} {SENTENCES[(index + 1) % 5]}"
        path.write_bytes(speech_wav(text, pause=2.0, noise=noise, seed=index))
        paths.append(str(path))
    return paths


def test_three_recordings_show_the_joined_choice_before_anything_is_paid(page, live_server, user, tmp_path):
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}/lab/new/")
    page.get_by_label("Recordings").set_input_files(recordings(tmp_path, 3))

    page.locator("#assembly-segments li").first.wait_for()
    assert page.locator("#assembly-files li").count() == 3
    files = {page.locator("#assembly-segments li").nth(i).get_attribute("data-file") for i in range(3)}
    assert files == {"0", "1", "2"}
    assert "reading-1.wav" in page.locator("#assembly-segments").inner_text()
    wait_for_js(page, "document.getElementById('assembly-audio').readyState >= 1")
    assert page.evaluate("document.getElementById('assembly-audio').duration") > 20

    # Each stretch plays on its own: the player jumps to where the stretch sits in the joined sample.
    page.locator("#assembly-segments li").nth(1).get_by_role("button", name="Play").click()
    wait_for_js(page, "document.getElementById('assembly-audio').currentTime > 5")

    # Leaving a recording out joins the others again.
    page.get_by_label("Use this recording: reading-1.wav").uncheck()
    wait_until(lambda: page.locator("#assembly-segments li[data-file='1']").count() == 0)
    assert page.locator("#assembly-segments li").count() == 2
    assert not Clone.objects.exists()

    page.get_by_label("Name").fill("Joined in the browser")
    page.get_by_label("Preview text").fill("Hello from two of three recordings.")
    page.get_by_label("I have the right to clone this voice").check()
    page.get_by_role("button", name="Clone this voice").click()
    page.wait_for_url("**/clones/*/")
    clone = Clone.objects.get()
    assert [len(p.stretches) > 0 for p in clone.sample_parts.order_by("position")] == [True, False, True]
    assert page.locator("#sample-parts").is_visible()


def kept(page, file):
    """(start, end) of each stretch the joined sample keeps of `file`, as the page lists them."""
    items = page.locator(f"#assembly-segments li[data-file='{file}']")
    return [(float(items.nth(i).get_attribute("data-start")), float(items.nth(i).get_attribute("data-end")))
            for i in range(items.count())]  # fmt: skip


def test_the_kept_window_is_dragged_and_moved_by_keyboard_and_the_sample_joined_again(
    page, live_server, user, tmp_path
):
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}/lab/new/")
    page.get_by_label("Recordings").set_input_files(recordings(tmp_path, 3))
    page.locator("#assembly-segments li").first.wait_for()
    (first_start, first_end), *_ = kept(page, 0)
    assert first_end - first_start > 8
    start = page.get_by_role("slider", name="Start of the kept window: reading-0.wav")
    end = page.get_by_role("slider", name="End of the kept window: reading-0.wav")
    assert float(start.get_attribute("aria-valuenow")) == first_start
    assert float(end.get_attribute("aria-valuenow")) == first_end
    duration = float(end.get_attribute("aria-valuemax"))

    # The mouse drags the window's end to 9 s of the recording: the file's stretch ends there now.
    page.locator(".window-track[data-file='0']").scroll_into_view_if_needed()
    track = page.locator(".window-track[data-file='0']").bounding_box()
    handle = end.bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] * 9 / duration, handle["y"] + handle["height"] / 2, steps=8)
    page.mouse.up()
    wait_until(lambda: kept(page, 0) and kept(page, 0)[0][1] < first_end - 2)
    dragged_end = float(end.get_attribute("aria-valuenow"))
    assert dragged_end == pytest.approx(9, abs=0.3)
    assert kept(page, 0) == [(first_start, dragged_end)]
    assert page.locator("#window-label-0").inner_text().startswith(f"Kept window: {first_start:.1f}–")

    # The keyboard moves the start by half a second a press, and stops 3 s before the end.
    start.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    assert float(start.get_attribute("aria-valuenow")) == pytest.approx(first_start + 2, abs=0.01)
    wait_until(lambda: kept(page, 0) and kept(page, 0)[0][0] > first_start + 1.5)
    assert kept(page, 0) == [(pytest.approx(first_start + 2, abs=0.01), dragged_end)]
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Start of the kept window: reading-0.wav"
    )  # the keyboard stays on the handle while the sample is joined again
    page.keyboard.press("PageUp")
    page.keyboard.press("PageUp")
    assert float(start.get_attribute("aria-valuenow")) == pytest.approx(dragged_end - 3, abs=0.01)

    # The whole window moves with the mouse, keeping its length.
    wait_until(lambda: kept(page, 0)[0][0] == pytest.approx(dragged_end - 3, abs=0.01))
    page.locator(".window-track[data-file='0']").scroll_into_view_if_needed()
    track = page.locator(".window-track[data-file='0']").bounding_box()
    window = page.locator(".window-track[data-file='0'] .kept-window").bounding_box()
    middle = (window["x"] + window["width"] / 2, window["y"] + window["height"] / 2)
    page.mouse.move(*middle)
    page.mouse.down()
    page.mouse.move(middle[0] + track["width"] * 2 / duration, middle[1], steps=8)
    page.mouse.up()
    wait_until(lambda: kept(page, 0)[0][1] > dragged_end + 1)
    (moved_start, moved_end), *_ = kept(page, 0)
    assert moved_end - moved_start == pytest.approx(3, abs=0.05)
    assert moved_start == pytest.approx(dragged_end - 1, abs=0.3)

    # The new stretch plays from where it sits in the joined sample.
    segment = page.locator("#assembly-segments li[data-file='0']").first
    at = float(segment.get_attribute("data-at"))
    wait_for_js(page, "document.getElementById('assembly-audio').readyState >= 1")
    segment.get_by_role("button", name="Play").click()
    played_from = wait_until(lambda: page.evaluate("document.getElementById('assembly-audio').currentTime"))
    wait_for_js(page, f"document.getElementById('assembly-audio').currentTime > {played_from} + 0.3")
    assert at - 0.05 <= played_from < at + 1
    assert page.evaluate("document.getElementById('assembly-audio').paused") is False
    assert page.locator("input[name=windows]").input_value() == f"0:{moved_start:.2f}-{moved_end:.2f}"
    assert not Clone.objects.exists()

    # A window the server refuses (here: too little speech left in it) says why; the last choice stays.
    page.get_by_label("Use this recording: reading-1.wav").uncheck()
    page.get_by_label("Use this recording: reading-2.wav").uncheck()
    wait_until(lambda: page.locator("#assembly-segments li").count() == 1)
    page.locator(".window-track[data-file='0']").scroll_into_view_if_needed()
    track = page.locator(".window-track[data-file='0']").bounding_box()
    window = page.locator(".window-track[data-file='0'] .kept-window").bounding_box()
    page.mouse.move(window["x"] + window["width"] / 2, window["y"] + window["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + 1, window["y"] + window["height"] / 2, steps=8)
    page.mouse.up()
    page.locator("#recordings-errors", has_text="it needs at least 3 s").wait_for()
    assert kept(page, 0) == [(moved_start, moved_end)]
    assert page.locator("input[name=windows]").input_value() == f"0:{moved_start:.2f}-{moved_end:.2f}"

    # The clone is made from the choice on the page: the server joins it once more from the form.
    page.get_by_label("Use this recording: reading-1.wav").check()
    wait_until(lambda: page.locator("#assembly-segments li").count() == 2)
    page.get_by_label("Name").fill("Windowed in the browser")
    page.get_by_label("Preview text").fill("Hello from a window I chose.")
    page.get_by_label("I have the right to clone this voice").check()
    page.get_by_role("button", name="Clone this voice").click()
    page.wait_for_url("**/clones/*/")
    parts = list(Clone.objects.get().sample_parts.order_by("position"))
    assert [(s["start"], s["end"]) for s in parts[0].stretches] == [(moved_start, moved_end)]
    assert parts[1].stretches and not parts[2].stretches


def test_noise_reduction_is_offered_for_noisy_recordings_with_before_and_after(page, live_server, user, tmp_path):
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}/lab/new/")
    assert not page.locator("#cleanup").is_visible()
    page.get_by_label("Recordings").set_input_files(recordings(tmp_path, 2, noise=0.03))

    page.get_by_label("Reduce background noise").wait_for()
    page.get_by_label("Reduce background noise").check()
    page.locator("#cleanup-before").wait_for()
    wait_for_js(page, "document.getElementById('before-audio').readyState >= 1")
    wait_for_js(page, "document.getElementById('assembly-audio').readyState >= 1")
    assert "dB above the noise" in page.locator("#before-summary").inner_text()


def test_a_blind_round_is_answered_before_its_result_shows(page, live_server, user, make_clone):
    clone = make_clone()
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}/clones/{clone.uuid}/")
    page.get_by_role("link", name="Take the blind test").click()
    page.get_by_role("button", name="Start a round").click()
    page.wait_for_url("**/lab/rounds/*/")

    wait_for_js(
        page, "document.getElementById('audio-a').readyState >= 1 && document.getElementById('audio-b').readyState >= 1"
    )
    assert page.locator("#result").count() == 0
    page.get_by_role("button", name="A is the original").click()
    page.locator("#result").wait_for()

    listening = ListeningRound.objects.get()
    expected = "Right: that was the original." if listening.original_is == "a" else "That was the clone"
    assert expected in page.locator("#result").inner_text()
    page.goto(f"{live_server.url}/clones/{clone.uuid}/")
    fooled = 0 if listening.original_is == "a" else 1
    assert f"{fooled} of 1 listener could not tell" in page.locator("#listening-tally").inner_text()


@pytest.fixture
def scoring_worker(celery_worker, settings):
    """A worker with the similarity score on (the test settings leave it off for everyone else)."""
    settings.LAB_SIMILARITY = True
    with celery_worker.paused():
        worker = start_worker({"LAB_SIMILARITY": "true"})
        yield worker
        stop_worker(worker)


@pytest.mark.worker
def test_the_similarity_score_shows_on_the_clone_page(page, live_server, sandbox, scoring_worker, user, tmp_path):
    sample = tmp_path / "reading.wav"
    sample.write_bytes(speech_wav(f"{SENTENCES[0]} {SENTENCES[1]}"))
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}/clones/new/")
    page.get_by_label("Name").fill("Scored voice")
    page.get_by_label("Voice sample").set_input_files(str(sample))
    page.get_by_label("Preview text").fill("Hello, this is the preview of a scored voice.")
    page.get_by_label("I have the right to clone this voice").check()
    page.get_by_role("button", name="Clone this voice").click()
    page.wait_for_url("**/clones/*/")
    page.locator("#status-label", has_text="Ready").wait_for(timeout=60_000)

    score = wait_until(lambda: SimilarityScore.objects.filter(clone__name="Scored voice").first(), timeout=60)
    page.reload()
    shown = page.locator("#similarity-score").inner_text()
    assert shown == f"{score.percent}%"
    assert 0 <= score.score <= 1 and score.model == "resemblyzer-0.1.4-ge2e"
    assert "sandbox" in page.locator("#similarity").inner_text()
