"""What a new user tripped over (issue 20), each kept fixed: the upload limit said and kept without a
CSRF page, the speak form's defaults and ranges, Chinese pages in Chinese, downloads named for people."""

import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from clones.models import Clone, Utterance
from tests.samples import wav_bytes

pytestmark = pytest.mark.django_db

CHINESE = {"accept-language": "zh-CN,zh;q=0.9"}


def csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(reverse("clones:create")).text
    return client, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_a_file_over_the_limit_gets_the_form_back_with_the_limit_not_a_csrf_page(user, settings):
    settings.SAMPLE_MAX_BYTES = 50_000
    client, token = csrf_client(user)
    response = client.post(
        reverse("clones:create"),
        {"csrfmiddlewaretoken": token, "name": "Big", "preview_text": "Hi.", "language": "en",
         "visibility": "private", "consent": "on", "sample": ContentFile(wav_bytes(20), name="big.wav")},
    )  # fmt: skip
    assert response.status_code == 413
    assert "CSRF" not in response.text
    assert "The file is larger than the limit of 48.8\xa0KB." in response.text
    assert 'name="sample"' in response.text  # the form, to try again
    assert Clone.objects.count() == 0


def test_the_live_check_of_a_file_over_the_limit_says_so(user, settings):
    """The page's check sends its token in a header, which survives a body the server will not read."""
    settings.SAMPLE_MAX_BYTES = 50_000
    client, token = csrf_client(user)
    response = client.post(
        reverse("clones:analyze"),
        {"sample": ContentFile(wav_bytes(20), name="big.wav")},
        headers={"x-csrftoken": token},
    )
    assert response.status_code == 400
    assert response.json() == {"error": "The file is larger than the limit of 48.8\xa0KB."}


def test_other_csrf_failures_are_still_refused(user):
    client, _ = csrf_client(user)
    response = client.post(reverse("clones:create"), {"name": "No token"})
    assert response.status_code == 403 and Clone.objects.count() == 0


def test_the_clone_form_says_the_upload_limit_before_anything_is_sent(client, user, settings):
    settings.SAMPLE_MAX_BYTES = 10 * 1024 * 1024
    client.force_login(user)
    page = client.get(reverse("clones:create")).text
    assert "At most 10.0\xa0MB." in page
    assert f'data-max-bytes="{10 * 1024 * 1024}"' in page


def test_the_clone_forms_language_follows_the_interface(client, user):
    client.force_login(user)
    chinese = client.get(reverse("clones:create"), headers=CHINESE).text
    assert re.search(r'<option value="zh" selected>', chinese)
    english = client.get(reverse("clones:create"), headers={"accept-language": "en"}).text
    assert re.search(r'<option value="en" selected>', english)


def test_the_speak_page_picks_your_newest_voice_and_shows_ranges(client, user, make_clone):
    make_clone(name="Older voice")
    newest = make_clone(name="Newest voice")
    client.force_login(user)
    page = client.get(reverse("clones:speak")).text
    assert re.search(rf'<option value="{newest.uuid}" selected>Newest voice</option>', page)
    assert page.index("Newest voice") < page.index("Tongtong")  # your own voices come first
    assert re.search(r'type="range"[^>]*name="speed"|name="speed"[^>]*type="range"', page)
    assert "From 0.5 (slow) to 2 (fast); 1 is normal." in page
    assert "Up to 10,000 characters." in page and 'data-msg-count="' in page


def test_chinese_clone_pages_give_every_length_in_chinese(client, user, make_clone):
    clone = make_clone(
        quality={"verdict": "good", "format": "wav", "duration": 8.2, "sample_rate": 24000, "channels": 1,
                 "kept_duration": 8.2, "kept_start": 0, "trimmed": False, "speech_duration": 7.2,
                 "loudness_lufs": -20.0, "peak_dbfs": -3.0, "clipping_percent": 0, "noise_floor_dbfs": -60.0,
                 "snr_db": 40.0, "advice": []}
    )  # fmt: skip
    client.force_login(user)
    page = client.get(clone.get_absolute_url(), headers=CHINESE).text
    assert "7.2 秒" in page and "8.2 秒" in page
    assert not re.search(r"\d s\b", page)


def test_downloads_are_named_after_the_voice_and_what_it_says(client, user, make_clone):
    clone = make_clone(name="Ada's voice")
    utterance = Utterance(owner=user, clone=clone, text='Hello there: "how/are" you?', status="ready")
    utterance.audio.save("x.wav", ContentFile(wav_bytes(1)), save=False)
    utterance.save()
    client.force_login(user)
    response = client.get(utterance.get_audio_url(), {"download": 1})
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"Ada's voice - Hello there   how are  you")
    assert disposition.endswith('.wav"') and str(utterance.uuid) not in disposition
    chinese = Utterance(owner=user, clone=clone, text="你好，世界", status="ready")
    chinese.audio.save("y.wav", ContentFile(wav_bytes(1)), save=False)
    chinese.save()
    disposition = client.get(chinese.get_audio_url(), {"download": 1})["Content-Disposition"]
    assert "filename*=utf-8''" in disposition and "%E4%BD%A0%E5%A5%BD" in disposition


def test_api_docs_lead_back_to_the_site_and_a_new_token_can_be_copied(client, user):
    client.force_login(user)
    docs = client.get(reverse("api-1:openapi-view")).text
    assert f'href="{reverse("home")}"' in docs and 'rel="icon"' in docs
    page = client.post(reverse("api_tokens"), {"name": "laptop"}).text
    assert 'data-copy-target="new-token"' in page and "Copy token" in page
