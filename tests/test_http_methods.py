"""HEAD works wherever GET does; other methods than GET, HEAD and POST get 405 from the pages; GETs change nothing."""

import io

import pytest
from django.test import Client
from django.urls import reverse

from clones import bigmodel
from clones.models import Clone
from tests.samples import wav_bytes

pytestmark = pytest.mark.django_db


def _same_as_get(client, url, same_length=True, **headers):
    got, head = client.get(url, headers=headers), client.head(url, headers=headers)
    assert got.status_code in (200, 206), (url, got.status_code)
    assert head.status_code == got.status_code, (url, head.status_code)
    assert head["Content-Type"] == got["Content-Type"]
    if same_length:
        assert head.get("Content-Length") == got.get("Content-Length")
    assert (b"".join(head.streaming_content) if head.streaming else head.content) == b""
    return head


def test_head_answers_like_get_on_pages_audio_and_health(client, make_clone, user):
    clone = make_clone(visibility=Clone.Visibility.PUBLIC)
    for url in ("/", clone.get_absolute_url(), reverse("login"), reverse("signup"), clone.get_share_url()):
        _same_as_get(client, url)
    _same_as_get(client, reverse("clones:preview", args=[clone.uuid]))
    _same_as_get(client, reverse("clones:preview", args=[clone.uuid]), Range="bytes=0-99")
    _same_as_get(client, "/health/", same_length=False)  # its body holds timings
    client.force_login(user)
    for url in (reverse("clones:create"), reverse("clones:mine"), reverse("clones:speak"), reverse("api_tokens")):
        _same_as_get(client, url)


def test_head_answers_like_get_on_the_api(api_token, make_clone):
    clone = make_clone()
    api = Client(headers={"Authorization": f"Bearer {api_token}"})
    for url in ("/api/v1/clones", f"/api/v1/clones/{clone.uuid}", f"/api/v1/clones/{clone.uuid}/preview"):
        head = _same_as_get(api, url)
    assert head["Content-Type"].startswith("audio/")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_on_form_pages_get_405(client, user, make_clone, method):
    clone = make_clone()
    anonymous = Client()
    for url in (reverse("signup"), reverse("login"), reverse("password_reset")):
        response = anonymous.generic(method, url)
        assert response.status_code == 405 and "POST" in response["Allow"], url
    client.force_login(user)
    for url in (
        reverse("clones:create"),
        reverse("clones:speak"),
        reverse("api_tokens"),
        reverse("clones:delete", args=[clone.uuid]),
        clone.get_absolute_url(),
    ):
        assert client.generic(method, url).status_code == 405, url
    assert Clone.objects.filter(pk=clone.pk, deletion_requested_at=None).exists()


@pytest.fixture
def provider_voice(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as api:
        file_id = api.upload_file(io.BytesIO(wav_bytes(4)), "s.wav").id
        return api.clone_voice(voice_name="vc_here", input="Hello.", file_id=file_id, model="glm-tts-clone").voice


def test_the_reconcile_page_shows_what_it_would_do_and_changes_nothing_until_posted(
    admin_client, make_clone, provider_voice
):
    missing = make_clone(name="Missing", voice_name="vc_missing", voice_id="0b0e1e4c-0000-4000-8000-00000000000d")
    url = reverse("admin:clones_clone_reconcile")
    page = admin_client.get(url)
    assert page.status_code == 200 and "These will be marked gone" in page.text and "Missing" in page.text
    admin_client.head(url)
    missing.refresh_from_db()
    assert missing.gone_at is None

    admin_client.post(url, {"mark": "1"})
    missing.refresh_from_db()
    assert missing.gone_at is not None


def test_reconcile_clears_the_mark_of_a_voice_the_provider_lists_again(admin_client, make_clone, provider_voice):
    from django.utils import timezone

    back = make_clone(name="Back", voice_name="vc_here", voice_id=provider_voice, gone_at=timezone.now())
    url = reverse("admin:clones_clone_reconcile")
    assert "the mark will be cleared" in admin_client.get(url).text
    admin_client.post(url, {"mark": "1"})
    back.refresh_from_db()
    assert back.gone_at is None
