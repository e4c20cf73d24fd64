"""API tokens: made and revoked on the account page, shown once, stored as a hash; the API wants one."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db

CLONES = "/api/v1/clones"


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_create_a_token_see_it_once_and_use_it(client, user):
    client.force_login(user)
    page = client.get(reverse("api_tokens"))
    assert page.status_code == 200 and "You have no API tokens yet." in page.text

    created = client.post(reverse("api_tokens"), {"name": "nightly script"})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    secret = created.context["new_secret"]
    assert secret.startswith("vc_") and len(secret) > 40
    assert secret in created.text and "it is shown only this once" in created.text

    token = ApiToken.objects.get()
    assert token.user == user and token.name == "nightly script" and token.prefix == secret[:11]
    assert secret not in (token.digest, token.prefix) and token.last_used_at is None

    again = client.get(reverse("api_tokens"))
    assert secret not in again.text
    assert "nightly script" in again.text and f"{token.prefix}…" in again.text

    api = Client()  # no session: the token alone
    response = api.get(CLONES, headers=bearer(secret))
    assert response.status_code == 200 and response.json()["count"] == 0
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_token_gets_401(client, user):
    client.force_login(user)
    secret = client.post(reverse("api_tokens"), {"name": "laptop"}).context["new_secret"]
    token = ApiToken.objects.get()
    assert Client().get(CLONES, headers=bearer(secret)).status_code == 200

    response = client.post(reverse("revoke_api_token", args=[token.pk]), follow=True)
    assert "The token “laptop” was revoked: it no longer works." in response.text
    token.refresh_from_db()
    assert token.revoked_at is not None

    refused = Client().get(CLONES, headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.json()["error"] == {
        "code": "invalid_token",
        "message": "This API token is unknown or has been revoked.",
    }


def test_revoking_needs_csrf_and_ownership(user, other_user):
    token, _ = ApiToken.issue(user, "mine")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.post(reverse("revoke_api_token", args=[token.pk])).status_code == 403

    other = Client()
    other.force_login(other_user)
    assert other.post(reverse("revoke_api_token", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.is_active


def test_token_page_needs_login(client):
    response = client.get(reverse("api_tokens"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_name_is_required_and_active_tokens_are_limited(client, user):
    client.force_login(user)
    assert "This field is required." in client.post(reverse("api_tokens"), {"name": ""}).text
    for n in range(ApiToken.MAX_ACTIVE_PER_USER):
        ApiToken.issue(user, f"t{n}")
    refused = client.post(reverse("api_tokens"), {"name": "one more"})
    assert "You have 20 active tokens, the most allowed: revoke one first." in refused.text
    assert ApiToken.objects.count() == ApiToken.MAX_ACTIVE_PER_USER


@pytest.mark.parametrize(
    "header, code",
    [
        (None, "not_authenticated"),
        ("Bearer", "invalid_token"),
        ("Basic YWRhOmNvcnJlY3QgaG9yc2U=", "invalid_token"),
        ("Bearer vc_not-a-real-token", "invalid_token"),
    ],
)
def test_401_without_a_valid_token(client, user, header, code):
    headers = {"Authorization": header} if header else {}
    for method, url in [("get", CLONES), ("post", CLONES), ("get", "/api/v1/utterances")]:
        response = getattr(client, method)(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == code
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_browser_session_is_not_an_api_credential(client, user):
    client.force_login(user)
    assert client.get(CLONES).status_code == 401
    # No cookie-authenticated writes, so no CSRF hole: the session alone cannot create anything.
    assert client.post(CLONES, {"name": "x"}).status_code == 401


def test_tokens_of_inactive_users_do_not_work(client, user, api_token):
    user.is_active = False
    user.save()
    assert client.get(CLONES, headers=bearer(api_token)).status_code == 401


def test_staff_revoke_tokens_in_the_admin(client, staff_user, user):
    staff_user.is_superuser = True
    staff_user.save()
    token, secret = ApiToken.issue(user, "leaked")
    client.force_login(staff_user)
    changelist = reverse("admin:accounts_apitoken_changelist")
    listing = client.get(changelist)
    assert "leaked" in listing.text and token.prefix in listing.text and secret not in listing.text
    response = client.post(changelist, {"action": "revoke", "_selected_action": [token.pk]}, follow=True)
    assert "1 token was revoked." in response.text
    assert Client().get(CLONES, headers=bearer(secret)).status_code == 401
    assert client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
