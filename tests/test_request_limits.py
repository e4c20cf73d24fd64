"""Free-text fields have limits with clear messages; unreadable requests get a page or JSON, not a bare 400."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from clones.models import Clone
from tests.samples import wav_bytes

pytestmark = pytest.mark.django_db

CLONES = "/api/v1/clones"


def clone_fields(**fields):
    return {
        "name": "Narrator",
        "preview_text": "Hello, this is my new voice speaking.",
        "transcript": "",
        "language": "en",
        "visibility": "private",
        "tags": "calm",
        "consent": "true",
        "sample": SimpleUploadedFile("s.wav", wav_bytes(4)),
        **fields,
    }


@pytest.fixture
def api(api_token):
    return Client(headers={"Authorization": f"Bearer {api_token}"})


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def _multipart(headers, value):
    return b"--b\r\n" + headers + b"\r\n\r\n" + value + b"\r\n--b--\r\n"


def test_a_two_million_character_transcript_is_refused_with_a_message(signed_in, api):
    response = signed_in.post(reverse("clones:create"), clone_fields(transcript="word " * 400_000))
    assert response.status_code == 200
    assert "Keep the transcript to 1000 characters or fewer (it has 1999999)" in response.text
    response = api.post(CLONES, clone_fields(transcript="word " * 400_000))
    assert response.status_code == 400 and "transcript" in response.json()["error"]["fields"]
    assert not Clone.objects.exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "n" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("preview_text", "p" * 501, "Keep the preview text to 500 characters or fewer."),
        ("tags", "t," * 5000, "Keep the tags to 210 characters or fewer (they have 10000)."),
    ],
)
def test_every_free_text_field_of_a_clone_has_a_limit(signed_in, api, field, value, message):
    assert message in signed_in.post(reverse("clones:create"), clone_fields(**{field: value})).text
    assert message in api.post(CLONES, clone_fields(**{field: value})).json()["error"]["fields"][field]
    assert not Clone.objects.exists()


def test_a_request_too_large_to_read_gets_a_page_in_the_site_style(signed_in):
    response = signed_in.post(reverse("clones:create"), {"name": "x", "transcript": "a" * 3_000_000})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "This request was too large" in response.text and "Voiceclone" in response.text
    assert "Bad Request (400)" not in response.text


def test_a_request_too_large_for_the_api_gets_json(api, user):
    response = api.post(CLONES, {"name": "x", "transcript": "a" * 3_000_000})
    assert response.status_code == 413 and response.json()["error"]["code"] in ("request_too_large", "file_too_large")


def test_a_very_long_upload_file_name_gets_a_page_that_says_so(signed_in):
    body = _multipart(
        b'Content-Disposition: form-data; name="sample"; filename="'
        + b"a" * 3000
        + b'.wav"\r\nContent-Type: audio/wav',
        wav_bytes(1),
    )
    response = signed_in.post(reverse("clones:create"), body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 400
    assert "name is too long. Please rename the file" in response.text and "Voiceclone" in response.text


def test_invalid_utf8_in_a_form_gets_the_form_back_with_messages(signed_in):
    body = _multipart(b'Content-Disposition: form-data; name="name"', b"\xff\xfe")
    response = signed_in.post(reverse("clones:create"), body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 200 and "Please confirm that you have the right" in response.text


def test_too_many_form_fields_get_a_page_in_the_site_style(signed_in):
    body = "&".join(f"f{number}=1" for number in range(1500))
    response = signed_in.post(reverse("clones:speak"), body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "The request could not be read" in response.text and "Voiceclone" in response.text


def test_a_form_without_its_csrf_token_gets_a_page_in_the_site_style(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post(reverse("clones:speak"), {"text": "hi"})
    assert response.status_code == 403
    assert "This form had expired or came from another site" in response.text and "Voiceclone" in response.text
