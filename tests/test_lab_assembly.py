"""Several recordings into one sample: each through the intake, the best speech joined, bad files named."""

import io
import wave
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Usage
from clones.models import Clone
from lab.models import SamplePart
from tests.voices import SENTENCES, speech_wav

pytestmark = pytest.mark.django_db


def stored_files():
    media = Path(settings.MEDIA_ROOT)
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def recording(index, pause=2.0, **kwargs):
    """About 12 s: two sentences with silence around them, so there is something to leave out."""
    text = f"{SENTENCES[index % 5]} {SENTENCES[(index + 1) % 5]}"
    return SimpleUploadedFile(f"take-{index}.wav", speech_wav(text, pause=pause, **kwargs))


def wav_seconds(data):
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getnframes() / audio.getframerate()


def test_three_recordings_are_joined_into_at_most_30_seconds_of_their_speech(client, user):
    client.force_login(user)
    response = client.post(reverse("lab:assemble"), {"recordings": [recording(i) for i in range(3)]})

    assert response.status_code == 200
    data = response.json()
    assert data["duration"] <= settings.SAMPLE_MAX_SECONDS
    assert {segment["file"] for segment in data["segments"]} == {0, 1, 2}
    assert [f["name"] for f in data["files"]] == ["take-0.wav", "take-1.wav", "take-2.wav"]
    # The two seconds of silence before each recording's speech are left out.
    assert all(segment["start"] > 1.5 for segment in data["segments"])
    # Stretches follow one another with a short pause, in the joined sample's time.
    ats = [segment["at"] for segment in data["segments"]]
    assert ats == sorted(ats) and ats[0] == 0.0
    # The report is measured again on the joined sample: little silence left in it.
    assert data["report"]["speech_duration"] > 0.7 * data["report"]["kept_duration"]
    assert data["audio"].startswith("data:audio/wav;base64,")
    # Nothing is stored or paid before the owner submits.
    assert stored_files() == [] and not Usage.objects.exists() and not Clone.objects.exists()


def test_a_file_the_owner_leaves_out_gives_no_stretch(client, user):
    client.force_login(user)
    response = client.post(reverse("lab:assemble"), {"recordings": [recording(i) for i in range(3)], "skip": "1"})

    assert response.status_code == 200
    assert {segment["file"] for segment in response.json()["segments"]} == {0, 2}


def test_one_bad_file_among_five_is_named_and_nothing_is_stored(client, user):
    client.force_login(user)
    files = [recording(i) for i in range(4)]
    files.insert(2, SimpleUploadedFile("holiday.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 200))
    response = client.post(reverse("lab:assemble"), {"recordings": files})

    assert response.status_code == 400
    assert response.json()["error"] == "“holiday.png”: This is an image, not an audio recording."
    assert stored_files() == []


def test_more_than_five_recordings_are_refused(client, user):
    client.force_login(user)
    response = client.post(reverse("lab:assemble"), {"recordings": [recording(i) for i in range(6)]})

    assert response.status_code == 400
    assert response.json()["error"] == "Use at most 5 recordings for one sample."


def test_the_clone_form_with_three_recordings_stores_the_joined_sample_and_where_it_came_from(
    client, user, django_capture_on_commit_callbacks
):
    client.force_login(user)
    form = {
        "name": "Joined voice",
        "preview_text": "Hello from three recordings.",
        "transcript": "",
        "language": "en",
        "visibility": "private",
        "consent": "on",
        "recordings": [recording(i) for i in range(3)],
    }
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = client.post(reverse("lab:new"), form)

    clone = Clone.objects.get()
    assert response.status_code == 302 and response["Location"] == clone.get_absolute_url()
    assert len(enqueued) == 1 and Usage.objects.filter(kind="clone").count() == 1
    assert clone.quality["format"] == "wav" and clone.sample_duration <= settings.SAMPLE_MAX_SECONDS
    with clone.sample.open("rb") as sample:
        assert wav_seconds(sample.read()) == pytest.approx(clone.sample_duration, abs=0.05)
    parts = list(SamplePart.objects.filter(clone=clone))
    assert [p.name for p in parts] == ["take-0.wav", "take-1.wav", "take-2.wav"]
    assert all(p.stretches and p.report["verdict"] for p in parts)
    # The clone page says where its sample came from.
    page = client.get(clone.get_absolute_url()).content.decode()
    assert "Where the sample came from" in page and "take-1.wav" in page


def test_the_clone_form_refuses_a_bad_recording_by_name_and_keeps_nothing(client, user):
    client.force_login(user)
    form = {
        "name": "Joined voice",
        "preview_text": "Hello.",
        "language": "en",
        "visibility": "private",
        "consent": "on",
        "recordings": [recording(0), SimpleUploadedFile("empty.wav", b""), recording(1)],
    }
    response = client.post(reverse("lab:new"), form)

    assert response.status_code == 400
    assert "“empty.wav”: The file is empty." in response.content.decode()
    assert not Clone.objects.exists() and not Usage.objects.exists() and stored_files() == []


def test_five_recordings_of_almost_the_limit_each_are_read(client, user, settings):
    # The request is larger than one sample's limit: a multi-file view is allowed five of them.
    settings.SAMPLE_MAX_BYTES = 2_500_000
    client.force_login(user)
    files = [recording(i, pause=18.0) for i in range(5)]
    assert all(1_800_000 < f.size < 2_500_000 for f in files)
    response = client.post(reverse("lab:assemble"), {"recordings": files})

    assert response.status_code == 200, response.json()
    assert len(response.json()["files"]) == 5


def test_the_page_and_a_refusal_speak_chinese(client, user):
    client.force_login(user)
    page = client.get(reverse("lab:new"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "用多段录音复刻" in page and "我们保留的部分" in page

    files = [recording(0), SimpleUploadedFile("notes.txt", b"just some text, not audio\n" * 20)]
    response = client.post(reverse("lab:assemble"), {"recordings": files}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert response.json()["error"].startswith("“notes.txt”：")


def test_noise_reduction_is_offered_for_a_noisy_sample_and_measured_again(client, user):
    client.force_login(user)
    noisy = [recording(i, noise=0.03, seed=i) for i in range(2)]
    response = client.post(reverse("lab:assemble"), {"recordings": noisy})
    data = response.json()
    assert data["cleanup_offered"] is True and "before_cleanup" not in data
    assert "background_noise" in [a["code"] for a in data["advice"]]

    noisy = [recording(i, noise=0.03, seed=i) for i in range(2)]
    cleaned = client.post(reverse("lab:assemble"), {"recordings": noisy, "denoise": "on"}).json()
    before, after = cleaned["before_cleanup"]["report"], cleaned["report"]
    assert before["snr_db"] == pytest.approx(data["report"]["snr_db"], abs=0.5)  # the joined sample, as it was
    assert after["snr_db"] > before["snr_db"] + 3
    assert after["noise_floor_dbfs"] < before["noise_floor_dbfs"] - 10
    assert cleaned["audio"] != cleaned["before_cleanup"]["audio"]


def test_a_clean_sample_is_not_offered_noise_reduction(client, user):
    client.force_login(user)
    response = client.post(reverse("lab:assemble"), {"recordings": [recording(0)]})
    assert response.json()["cleanup_offered"] is False


def test_a_kept_window_limits_what_is_kept_of_its_file_and_the_sample_is_measured_again(client, user):
    client.force_login(user)
    # The same bytes both times (eSpeak NG may vary a sample or two between two syntheses of a text).
    made = [recording(i).read() for i in range(3)]

    def files():
        return [SimpleUploadedFile(f"take-{i}.wav", data) for i, data in enumerate(made)]

    whole = client.post(reverse("lab:assemble"), {"recordings": files()}).json()
    response = client.post(reverse("lab:assemble"), {"recordings": files(), "windows": "0:5-9.5"})

    assert response.status_code == 200
    data = response.json()
    kept = [segment for segment in data["segments"] if segment["file"] == 0]
    assert [(s["start"], s["end"]) for s in kept] == [(5.0, 9.5)]
    # The others keep what they had; the sample is shorter and its report measured on the new join.
    others = [(s["file"], s["start"], s["end"]) for s in data["segments"] if s["file"] != 0]
    assert others == [(s["file"], s["start"], s["end"]) for s in whole["segments"] if s["file"] != 0]
    assert data["duration"] == pytest.approx(whole["duration"] - (whole["files"][0]["kept_seconds"] - 4.5), abs=0.1)
    assert data["report"]["kept_duration"] == pytest.approx(data["duration"], abs=0.1)
    assert data["files"][0]["duration"] == pytest.approx(14.5, abs=0.5)
    assert stored_files() == [] and not Clone.objects.exists()


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ("1:5-40", "“take-1.wav”: the kept window must lie within its 13."),  # 13.9 s, give or take eSpeak
        ("0:-1-6", "“take-0.wav”: the kept window must lie within its 14."),
        ("2:4-5.5", "“take-2.wav”: the kept window must be at least 3 s long, as a sample must."),
        ("7:1-5", "There is no recording number 8 to keep a window of."),
        ("0:five-nine", "The kept windows could not be read: move them again."),
        # Inside the two seconds of silence before the speech: too little is left to clone from.
        ("0:0-3,1:0-3", "The joined sample cannot be used: The sample is 2."),
    ],
)
def test_a_window_out_of_range_is_refused_with_a_clear_message(client, user, windows, message):
    client.force_login(user)
    files = [recording(i) for i in range(3)]
    response = client.post(reverse("lab:assemble"), {"recordings": files, "skip": "2", "windows": windows})

    assert response.status_code == 400
    assert response.json()["error"].startswith(message)
    assert stored_files() == []


def test_the_clone_form_keeps_only_the_speech_inside_the_windows_and_refuses_one_out_of_range(
    client, user, django_capture_on_commit_callbacks
):
    client.force_login(user)
    form = {
        "name": "Windowed voice",
        "preview_text": "Hello from a chosen window.",
        "language": "en",
        "visibility": "private",
        "consent": "on",
    }
    refused = client.post(reverse("lab:new"), {**form, "recordings": [recording(0)], "windows": "0:10-31"})
    assert refused.status_code == 400
    assert "“take-0.wav”: the kept window must lie within its 14." in refused.content.decode()
    assert not Clone.objects.exists() and not Usage.objects.exists() and stored_files() == []

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = client.post(
            reverse("lab:new"), {**form, "recordings": [recording(i) for i in range(2)], "windows": "1:3-8"}
        )
    assert response.status_code == 302 and len(enqueued) == 1
    clone = Clone.objects.get()
    parts = list(SamplePart.objects.filter(clone=clone))
    assert [(s["start"], s["end"]) for s in parts[1].stretches] == [(3.0, 8.0)]
    assert parts[0].stretches and parts[0].stretches[0]["start"] < 3


def test_the_kept_window_speaks_chinese(client, user):
    client.force_login(user)
    page = client.get(reverse("lab:new"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "保留窗口的起点：%(name)s" in page and "拖动录音的保留窗口" in page

    response = client.post(
        reverse("lab:assemble"), {"recordings": [recording(0)], "windows": "0:2-4"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "“take-0.wav”：保留窗口至少要 3 秒长，与样本的要求相同。"
