"""Audio intake: whatever people bring becomes the best sample we can make, or a precise refusal.

Every file here is encoded on the spot (tests/audio_corpus.py), once per session. Accepted files must
become a 24 kHz mono 16-bit WAV of the right length with the original kept under a generated name;
refused files must leave no row, no file and no queued job, through the form and the analyze endpoint.
"""

import io
import wave
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from clones.models import Clone
from tests.audio_corpus import encode, png_bytes, speech_like, wav, wav_with_data_size
from tests.conftest import CHROMIUM, wait_until

pytestmark = pytest.mark.django_db

REPORT_KEYS = {
    "format", "duration", "sample_rate", "channels", "kept_start", "kept_duration", "trimmed", "speech_duration",
    "loudness_lufs", "peak_dbfs", "clipping_percent", "noise_floor_dbfs", "snr_db", "advice", "verdict",
}  # fmt: skip


@pytest.fixture(scope="session")
def corpus():
    """name -> (bytes, expected format, source rate, channels): 6 s of speech-like phrases in each format."""
    s, r = speech_like(6)
    s44, r44 = speech_like(6, rate=44100)
    return {
        "wav-s16": (wav(s, r), "wav", r, 1),
        "wav-s24": (wav(s, r, codec="pcm_s24le", sample_format="s32"), "wav", r, 1),
        "wav-u8": (wav(s44, r44, codec="pcm_u8", sample_format="u8"), "wav", r44, 1),
        "wav-float-stereo": (wav(s, r, codec="pcm_f32le", sample_format="flt", channels=2), "wav", r, 2),
        "mp3-cbr-id3": (
            encode(s44, r44, container="mp3", codec="libmp3lame", bit_rate=128000, metadata={"title": "Hello"}),
            "mp3", r44, 1,
        ),
        "mp3-vbr-id3": (
            encode(s44, r44, container="mp3", codec="libmp3lame", options={"q": "4"}, metadata={"artist": "Ada"}),
            "mp3", r44, 1,
        ),
        "m4a-aac": (encode(s44, r44, container="ipod", codec="aac", channels=2), "m4a", r44, 2),
        "ogg-vorbis": (encode(s, r, container="ogg", codec="vorbis", channels=2), "ogg", r, 2),
        "webm-opus": (encode(s, r, container="webm", codec="libopus", sample_format="flt"), "webm", r, 1),
        "flac": (encode(s, r, container="flac", codec="flac", sample_format="s16"), "flac", r, 1),
        "mp4-video-and-audio": (encode(s, r, container="mp4", codec="aac", video=True), "mp4", r, 1),
        "aac-adts": (encode(s44, r44, container="adts", codec="aac"), "aac", r44, 1),
        "aiff": (encode(s, r, container="aiff", codec="pcm_s16be", sample_format="s16"), "aiff", r, 1),
    }  # fmt: skip


@pytest.fixture(scope="session")
def bad_files():
    """name -> (bytes, the exact message)."""
    s, r = speech_like(6)
    good_wav = wav(s, r)
    flac = encode(s, r, container="flac", codec="flac", sample_format="s16")
    mp3 = encode(s, r, container="mp3", codec="libmp3lame")
    absurd = wav_with_data_size(good_wav, 0x7FFFFFF0)
    html = b"RIFF\x00\x10\x00\x00WAVE<!doctype html><html><body>" + b"<p>Hello</p>" * 100 + b"</body></html>"
    not_audio = "This file is not audio we can read, or it is damaged."
    text = "This is a text file or web page, not an audio recording."
    return {
        "empty": (b"", "The file is empty."),
        "text": (b"Dear diary, today I recorded nothing.\n" * 20, text),
        "png-image": (png_bytes(), "This is an image, not an audio recording."),
        "random-bytes": (np.random.default_rng(7).bytes(40_000), not_audio),
        "html-with-riff-header": (html, text),
        "riff-header-only": (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40, not_audio),
        "truncated-wav": (
            good_wav[: len(good_wav) // 2],
            "The file is cut short: its header promises 6.0 s of audio, but only 2.9 s is there.",
        ),
        "truncated-flac": (
            flac[: len(flac) // 2],
            "The file is cut short: its header promises 6.0 s of audio, but only 2.7 s is there.",
        ),
        "truncated-mp3": (
            mp3[: len(mp3) // 2],
            "The file is cut short: its header promises 6.0 s of audio, but only 2.9 s is there.",
        ),
        "video-without-audio": (
            encode(s, r, container="mp4", codec="aac", video=True, audio=False),
            "This video has no audio track.",
        ),
        "absurd-wav-data-size": (
            absurd,
            f"The file's header claims 2.0\xa0GB of audio in a file of {filesizeformat(len(absurd))}: "
            "it is damaged or not a recording.",
        ),
        "shorter-than-3-s": (wav(*speech_like(2.5)), "The sample is 2.5 s long; it needs at least 3 s of speech."),
        "silent": (wav(np.zeros(5 * r, dtype=np.float32), r), "The sample is silent."),
        "nearly-silent": (
            wav(speech_like(5)[0] * 0.003, r),
            "The sample is almost silent (-70 LUFS): record closer to the microphone or with more gain.",
        ),
    }  # fmt: skip


def stored_files():
    media = Path(settings.MEDIA_ROOT)
    return sorted(p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()) if media.exists() else []


def wav_facts(data):
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getframerate(), audio.getnchannels(), audio.getsampwidth(), audio.getnframes()


@pytest.fixture
def submit(client, user, django_capture_on_commit_callbacks):
    def submit(data, filename="recording.bin", follow=False):
        client.force_login(user)
        form = {
            "name": "My voice",
            "preview_text": "Hello from my cloned voice.",
            "language": "en",
            "visibility": "private",
            "consent": "on",
            "sample": SimpleUploadedFile(filename, data),
        }
        with django_capture_on_commit_callbacks(execute=False) as enqueued:
            response = client.post(reverse("clones:create"), form, follow=follow)
        response.enqueued = enqueued
        return response

    return submit


@pytest.fixture
def analyze(client, user):
    def analyze(data, filename="recording.bin"):
        client.force_login(user)
        return client.post(reverse("clones:analyze"), {"sample": SimpleUploadedFile(filename, data)})

    return analyze


@pytest.mark.parametrize(
    "name",
    ["wav-s16", "wav-s24", "wav-u8", "wav-float-stereo", "mp3-cbr-id3", "mp3-vbr-id3", "m4a-aac", "ogg-vorbis",
     "webm-opus", "flac", "mp4-video-and-audio", "aac-adts", "aiff"],
)  # fmt: skip
def test_each_accepted_format_becomes_a_normalized_wav(submit, corpus, name):
    data, fmt, rate, channels = corpus[name]
    response = submit(data, filename="voice.txt")  # the name says nothing; the bytes do
    clone = Clone.objects.get()
    assert response.status_code == 302 and len(response.enqueued) == 1
    assert clone.sample.name == f"samples/{clone.uuid}.wav" and clone.sample_format == "wav"
    assert clone.original.name == f"originals/{clone.uuid}.{fmt}"
    assert clone.original.read() == data
    sample_rate, sample_channels, width, frames = wav_facts(clone.sample.read())
    assert (sample_rate, sample_channels, width) == (24000, 1, 2)
    assert frames / 24000 == pytest.approx(6.0, abs=0.05) and clone.sample_duration == round(frames / 24000, 2)
    report = clone.quality
    assert set(report) == REPORT_KEYS
    assert (report["format"], report["sample_rate"], report["channels"]) == (fmt, rate, channels)
    assert report["duration"] == pytest.approx(6.0, abs=0.05) and report["trimmed"] is False
    assert report["speech_duration"] == pytest.approx(4.9, abs=0.3)
    assert len(clone.sample_peaks) == 120
    assert stored_files() == sorted([clone.sample.name, clone.original.name])


def test_the_uploaded_wav_is_loudness_normalized(submit, corpus):
    s, r = speech_like(8, level=0.05)  # a quiet recording
    submit(wav(s, r))
    clone = Clone.objects.get()
    assert clone.quality["loudness_lufs"] == pytest.approx(-36.1, abs=0.5)
    assert [a["code"] for a in clone.quality["advice"]] == ["too_quiet"]
    samples = np.frombuffer(clone.sample.read()[44:], dtype="<i2") / 32768
    assert pyloudnorm.Meter(24000).integrated_loudness(samples) == pytest.approx(-20.0, abs=0.3)


def test_streamed_loudness_agrees_with_pyloudnorm():
    """We filter a second at a time to keep memory flat; the answer must be the library's own."""
    from clones.intake import integrated_loudness

    for seconds, level in [(3.2, 0.3), (12.05, 0.02)]:
        samples, rate = speech_like(seconds, rate=24000, level=level)
        expected = pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64))
        assert integrated_loudness(samples, rate) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    "name",
    ["empty", "text", "png-image", "random-bytes", "html-with-riff-header", "riff-header-only", "truncated-wav",
     "truncated-flac", "truncated-mp3", "video-without-audio", "absurd-wav-data-size", "shorter-than-3-s", "silent",
     "nearly-silent"],
)  # fmt: skip
def test_each_bad_file_is_refused_precisely_leaving_nothing(submit, analyze, bad_files, name):
    data, message = bad_files[name]
    response = submit(data)
    assert response.status_code == 200
    assert response.context["form"].errors["sample"] == [message]
    assert Clone.objects.count() == 0 and stored_files() == [] and response.enqueued == []
    # The analyze endpoint says the same, through the same function.
    answer = analyze(data)
    assert (answer.status_code, answer.json()) == (400, {"error": message})
    assert stored_files() == []


def test_oversized_uploads_are_stopped_while_streaming(submit, analyze, corpus, settings):
    settings.SAMPLE_MAX_BYTES = 100_000
    data = corpus["wav-s16"][0]  # 576 KB
    message = "The file is larger than the limit of 97.7\xa0KB."
    response = submit(data)
    assert response.context["form"].errors["sample"] == [message]
    assert Clone.objects.count() == 0 and stored_files() == [] and response.enqueued == []
    assert analyze(data).json() == {"error": message}


def test_a_long_recording_is_trimmed_to_its_best_30_seconds(submit, client):
    s, r = speech_like(50)
    s[: 12 * r] = np.random.default_rng(3).normal(0, 10 ** (-70 / 20), 12 * r)  # 12 s of room noise first
    response = submit(encode(s, r, container="mp3", codec="libmp3lame"), follow=True)
    clone = Clone.objects.get()
    report = clone.quality
    assert (report["duration"], report["kept_duration"], report["trimmed"]) == (pytest.approx(50, abs=0.1), 30.0, True)
    assert 11.5 <= report["kept_start"] <= 20  # the window starts where the speech does, not at 0:00
    assert [a["code"] for a in report["advice"]] == ["trimmed", "good"] and report["verdict"] == "good"
    sample = clone.sample.read()
    assert wav_facts(sample)[3] == 30 * 24000 and clone.sample_duration == 30.0
    start = f"0:{round(report['kept_start']):02d}"
    assert f"Your recording was trimmed to its best 30 seconds, from {start}; listen to it below." in response.text
    assert f"Your recording was trimmed to the best 30 s, from {start}" in response.text
    # The owner hears exactly what is uploaded.
    served = client.get(reverse("clones:sample", args=[clone.uuid]))
    assert served["Content-Type"] == "audio/wav" and b"".join(served.streaming_content) == sample


def test_analyze_reports_quality_with_advice_and_stores_nothing(analyze):
    s, r = speech_like(12)
    noisy = s + np.random.default_rng(5).normal(0, 0.03, len(s)).astype(np.float32)
    clipped = np.clip(noisy * 6, -1, 1)
    response = analyze(wav(clipped, r))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"report", "advice"} and set(body["report"]) == REPORT_KEYS
    assert body["report"]["verdict"] == "poor"
    assert [(a["code"], a["level"]) for a in body["advice"]] == [("clipped", "error"), ("background_noise", "warning")]
    assert body["advice"][0]["message"].endswith(
        "of the sample is clipped (distorted by being too loud): record again a little further from the microphone "
        "or with less gain."
    )
    assert body["advice"][1]["message"].startswith("There is background noise (the voice is only ")
    assert Clone.objects.count() == 0 and stored_files() == []


def test_analyze_needs_login_and_post(client, corpus):
    data = corpus["wav-s16"][0]
    assert client.post(reverse("clones:analyze"), {"sample": SimpleUploadedFile("a.wav", data)}).status_code == 302
    assert client.get(reverse("clones:analyze")).status_code in (302, 405)


def test_only_owner_and_staff_hear_the_sample_and_see_its_report(submit, client, other_user, staff_user):
    submit(speech_wav(12))
    clone = Clone.objects.get()
    clone.visibility = Clone.Visibility.PUBLIC
    clone.save()
    page = client.get(clone.get_absolute_url())
    assert 'id="sample-audio"' in page.text and "Sample quality" in page.text and '<svg class="waveform"' in page.text
    assert "Clear speech at a good level: a good sample for cloning." in page.text
    url = reverse("clones:sample", args=[clone.uuid])
    assert client.get(url).status_code == 200
    client.force_login(staff_user)
    assert client.get(url).status_code == 200
    client.force_login(other_user)
    assert client.get(url).status_code == 404
    public_page = client.get(clone.get_absolute_url())
    assert public_page.status_code == 200 and 'id="sample-audio"' not in public_page.text
    assert "Sample quality" not in public_page.text
    client.logout()
    assert client.get(url).status_code == 404


def test_deleting_a_clone_removes_the_original_too(submit):
    submit(speech_wav(5))
    clone = Clone.objects.get()
    assert len(stored_files()) == 2
    clone.delete_with_files()
    assert stored_files() == []


def speech_wav(seconds):
    return wav(*speech_like(seconds))


@pytest.mark.django_db(transaction=True)
@pytest.mark.browser
def test_the_clone_page_plays_the_sample_and_draws_both_waveforms(page, live_server, user, client):
    """In Chromium, under the site's CSP: report, waveforms of sample and preview, a playable sample."""
    from django.core.files.base import ContentFile

    from tests.test_browser import log_in

    client.force_login(user)
    s, r = speech_like(40)
    client.post(
        reverse("clones:create"),
        {"name": "Long voice", "preview_text": "Hi.", "language": "en", "visibility": "private", "consent": "on",
         "sample": SimpleUploadedFile("long.ogg", encode(s, r, container="ogg", codec="vorbis", channels=2))},
    )  # fmt: skip
    clone = Clone.objects.get()
    preview = wav(*speech_like(3, rate=24000))
    clone.preview_audio.save(f"{clone.uuid}.wav", ContentFile(preview), save=False)
    clone.preview_peaks = [0.5] * 120
    clone.status = Clone.Status.READY
    clone.save()

    log_in(page, live_server, user)
    page.goto(f"{live_server.url}{clone.get_absolute_url()}")
    assert page.locator("#sample svg.waveform rect").count() == 120
    assert page.locator("#player svg.waveform.preview rect").count() == 120
    assert page.get_by_text("Your recording was trimmed to the best 30 s, from").is_visible()
    assert page.locator(".quality-table").is_visible() and page.locator(".advice li").count() >= 1
    wait_until(lambda: page.evaluate("document.getElementById('sample-audio').readyState >= 1"))
    assert page.evaluate("document.getElementById('sample-audio').duration") == pytest.approx(30, abs=0.01)


@pytest.mark.django_db(transaction=True)
@pytest.mark.browser
def test_what_chromium_records_is_analyzed(browser, live_server, user):
    """A MediaRecorder recording (WebM/Opus from Chromium's fake microphone), posted as the page would."""
    from tests.test_browser import log_in

    recorder = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
    )
    try:
        page = recorder.new_page(locale="en-US")
        log_in(page, live_server, user)
        page.goto(f"{live_server.url}{reverse('clones:create')}")
        answer = page.evaluate(
            """async (url) => {
              const stream = await navigator.mediaDevices.getUserMedia({audio: true});
              const recording = new MediaRecorder(stream);
              const chunks = [];
              recording.ondataavailable = (event) => chunks.push(event.data);
              const stopped = new Promise((resolve) => { recording.onstop = resolve; });
              recording.start(250);
              await new Promise((resolve) => setTimeout(resolve, 3600));
              recording.stop();
              await stopped;
              const body = new FormData();
              body.append("csrfmiddlewaretoken", document.querySelector("[name=csrfmiddlewaretoken]").value);
              body.append("sample", new Blob(chunks, {type: recording.mimeType}), "recording");
              const response = await fetch(url, {method: "POST", body});
              return {status: response.status, body: await response.json(), type: recording.mimeType};
            }""",
            reverse("clones:analyze"),
        )
    finally:
        recorder.close()
    assert answer["type"].startswith("audio/webm"), answer
    assert answer["status"] == 200, answer
    report = answer["body"]["report"]
    assert (report["format"], report["sample_rate"], report["channels"]) == ("webm", 48000, 1)
    assert report["duration"] == pytest.approx(3.6, abs=0.4)
    assert Clone.objects.count() == 0 and stored_files() == []
