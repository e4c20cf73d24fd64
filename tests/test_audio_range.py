"""Audio goes through a view that checks access and answers Range requests, so players can seek."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

AUDIO = bytes(range(256)) * 40  # 10,240 bytes whose positions are easy to check


@pytest.fixture
def url(make_clone):
    clone = make_clone(visibility="public", preview=AUDIO)
    return reverse("clones:preview", args=[clone.uuid])


def get(client, url, **headers):
    response = client.get(url, headers=headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_whole_file_with_caching_headers(client, url):
    response, body = get(client, url)
    assert response.status_code == 200 and body == AUDIO
    assert response["Content-Type"] == "audio/wav"
    assert response["Content-Length"] == str(len(AUDIO))
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"].startswith('"') and "max-age" in response["Cache-Control"]


@pytest.mark.parametrize(
    "header, start, end",
    [
        ("bytes=0-99", 0, 99),
        ("bytes=5000-5999", 5000, 5999),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-240", 10000, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
    ids=["first-bytes", "middle", "open-ended", "suffix", "past-the-end"],
)
def test_ranges(client, url, header, start, end):
    response, body = get(client, url, range=header)
    assert response.status_code == 206
    assert body == AUDIO[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(AUDIO)}"
    assert response["Content-Length"] == str(end - start + 1)


@pytest.mark.parametrize("header", ["bytes=20000-", "bytes=500-100", "bytes=-0"])
def test_unsatisfiable_range_is_416(client, url, header):
    response, _ = get(client, url, range=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(AUDIO)}"


def test_malformed_range_gets_the_whole_file(client, url):
    response, body = get(client, url, range="pages=1-2")
    assert response.status_code == 200 and body == AUDIO


def test_etag_revalidates_to_304(client, url):
    first, _ = get(client, url)
    again, body = get(client, url, if_none_match=first["ETag"])
    assert again.status_code == 304 and body == b""


def test_private_audio_is_kept_out_of_shared_caches(client, make_clone, user):
    clone = make_clone(visibility="private")
    client.force_login(user)
    response, _ = get(client, reverse("clones:preview", args=[clone.uuid]))
    assert response["Cache-Control"].startswith("private")


def test_media_has_no_public_path(client, make_clone):
    clone = make_clone(visibility="private")
    for guess in (f"/media/{clone.preview_audio.name}", f"/{clone.preview_audio.name}"):
        assert client.get(guess).status_code == 404
