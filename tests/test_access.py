"""Who may open what: every page and audio URL, for every kind of visitor and every visibility."""

import pytest
from django.urls import reverse

from clones.models import Clone

pytestmark = pytest.mark.django_db

OK, LOGIN, MISSING = 200, 302, 404

# page -> visibility -> what anonymous, another user, the owner and staff get
MATRIX = {
    "detail": {
        "private": (MISSING, MISSING, OK, OK),
        "unlisted": (MISSING, MISSING, OK, OK),
        "public": (OK, OK, OK, OK),
    },
    "status": {
        "private": (MISSING, MISSING, OK, OK),
        "unlisted": (MISSING, MISSING, OK, OK),
        "public": (OK, OK, OK, OK),
    },
    "preview": {
        "private": (MISSING, MISSING, OK, OK),
        "unlisted": (MISSING, MISSING, OK, OK),
        "public": (OK, OK, OK, OK),
    },
    "share": {
        "private": (MISSING, MISSING, OK, OK),
        "unlisted": (OK, OK, OK, OK),
        "public": (OK, OK, OK, OK),
    },
    "share_preview": {
        "private": (MISSING, MISSING, OK, OK),
        "unlisted": (OK, OK, OK, OK),
        "public": (OK, OK, OK, OK),
    },
    "delete": {
        "private": (LOGIN, MISSING, OK, OK),
        "unlisted": (LOGIN, MISSING, OK, OK),
        "public": (LOGIN, MISSING, OK, OK),
    },
}
VISITORS = ["anonymous", "other", "owner", "staff"]


def url_for(page, clone):
    if page.startswith("share"):
        return reverse(f"clones:{page}", args=[clone.share_token])
    return reverse(f"clones:{page}", args=[clone.uuid])


@pytest.mark.parametrize("visibility", ["private", "unlisted", "public"])
def test_access_matrix(client, make_clone, user, other_user, staff_user, visibility):
    clone = make_clone(visibility=visibility)
    logins = {"anonymous": None, "other": other_user, "owner": user, "staff": staff_user}
    seen, expected = {}, {}
    for index, visitor in enumerate(VISITORS):
        client.logout()
        if logins[visitor]:
            client.force_login(logins[visitor])
        for page, rows in MATRIX.items():
            response = client.get(url_for(page, clone))
            seen[page, visitor] = response.status_code
            expected[page, visitor] = rows[visibility][index]
    assert seen == expected


def test_pages_for_logged_in_users_only(client, user):
    for name in ("clones:create", "clones:mine"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(user)
    assert client.get(reverse("clones:mine")).status_code == 200


def test_gallery_is_open_and_lists_only_public_ready_clones(client, make_clone):
    make_clone(name="Open voice", visibility="public")
    make_clone(name="Hidden voice", visibility="unlisted")
    make_clone(name="Secret voice", visibility="private")
    make_clone(name="Unfinished voice", visibility="public", status=Clone.Status.CLONING)
    page = client.get(reverse("clones:gallery")).text
    assert "Open voice" in page
    assert not any(name in page for name in ("Hidden voice", "Secret voice", "Unfinished voice"))


def test_rotating_the_share_link_retires_the_old_one(client, make_clone, user):
    clone = make_clone(visibility="unlisted")
    old = reverse("clones:share", args=[clone.share_token])
    client.force_login(user)
    client.post(reverse("clones:rotate_share_link", args=[clone.uuid]))
    clone.refresh_from_db()
    client.logout()
    assert client.get(old).status_code == 404
    assert client.get(reverse("clones:share", args=[clone.share_token])).status_code == 200
    assert len(clone.share_token) >= 43  # 256 bits, URL-safe base64


def test_others_cannot_change_a_clone(client, make_clone, other_user):
    clone = make_clone(visibility="public")
    client.force_login(other_user)
    for name in ("update", "rotate_share_link", "retry", "delete"):
        assert client.post(reverse(f"clones:{name}", args=[clone.uuid]), {"name": "Mine now"}).status_code == 404
    clone.refresh_from_db()
    assert clone.name == "A voice" and clone.deletion_requested_at is None


def test_owner_renames_and_changes_visibility(client, make_clone, user):
    clone = make_clone()
    client.force_login(user)
    client.post(reverse("clones:update", args=[clone.uuid]), {"name": "Renamed", "visibility": "public"})
    clone.refresh_from_db()
    assert (clone.name, clone.visibility) == ("Renamed", "public")


def test_share_page_has_open_graph_tags(client, make_clone):
    clone = make_clone(name="Card voice", visibility="unlisted")
    page = client.get(reverse("clones:share", args=[clone.share_token])).text
    assert '<meta property="og:title" content="Card voice">' in page
    assert f'content="http://testserver/s/{clone.share_token}/audio/"' in page
    assert '<meta name="twitter:card" content="summary">' in page
    assert '<meta name="robots" content="noindex">' in page
