"""Signing up, logging in and out, and resetting a forgotten password."""

import re

import pytest
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_sign_up_logs_in_and_leads_to_cloning(client, django_user_model):
    response = client.post(
        reverse("signup"),
        {
            "username": "newcomer",
            "email": "New@Example.com",
            "password1": "a long passphrase",
            "password2": "a long passphrase",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("clones:create")
    assert django_user_model.objects.get(username="newcomer").email == "new@example.com"
    assert client.get(reverse("clones:create")).status_code == 200


def test_sign_up_can_be_switched_off(client, settings):
    settings.SIGNUP_ENABLED = False
    assert client.get(reverse("signup")).status_code == 404
    assert "Sign up" not in client.get(reverse("clones:gallery")).text


def test_log_in_and_out(client, user):
    response = client.post(reverse("login"), {"username": "ada", "password": "correct horse battery"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert "Log out" in client.get(reverse("clones:mine")).text
    client.post(reverse("logout"))
    assert client.get(reverse("clones:mine")).status_code == 302


def test_wrong_password_is_refused(client, user):
    response = client.post(reverse("login"), {"username": "ada", "password": "nope"})
    assert response.status_code == 200 and "Please enter a correct username and password" in response.text


def test_password_reset_by_email(client, user):
    client.post(reverse("password_reset"), {"email": "ada@example.com"})
    (message,) = mail.outbox
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session-held one
    client.post(form_url, {"new_password1": "another long phrase", "new_password2": "another long phrase"})
    response = client.post(reverse("login"), {"username": "ada", "password": "another long phrase"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
