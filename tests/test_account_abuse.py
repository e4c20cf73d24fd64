"""Holding off account abuse: sign-up floods, address probing, reset mail floods, password spraying."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import EmailConfirmation, Usage, charge
from clones.forms import SpeechForm
from clones.submissions import submit_speech

pytestmark = pytest.mark.django_db


def _sign_up(client, username, email="new@example.com", address="203.0.113.7"):
    data = {"username": username, "email": email, "password1": "a long passphrase", "password2": "a long passphrase"}
    return client.post(reverse("signup"), data, REMOTE_ADDR=address)


def test_sign_ups_from_one_address_are_limited_per_hour(client, settings, django_user_model):
    settings.SIGNUPS_PER_ADDRESS_PER_HOUR = 3
    for number in range(3):
        assert _sign_up(client, f"sock{number}", f"sock{number}@example.com").status_code == 302
        client.logout()
    response = _sign_up(client, "sock3", "sock3@example.com")
    assert response.status_code == 429
    assert "Too many accounts were created from here lately" in response.text
    assert not django_user_model.objects.filter(username="sock3").exists()
    # Another address is not held back by the first one's sign-ups.
    assert _sign_up(client, "neighbour", "n@example.com", address="198.51.100.1").status_code == 302


def test_sign_ups_in_all_are_limited_per_hour(client, settings):
    settings.SIGNUPS_PER_HOUR = 2
    assert _sign_up(client, "one", "1@example.com", address="198.51.100.1").status_code == 302
    assert _sign_up(client, "two", "2@example.com", address="198.51.100.2").status_code == 302
    assert _sign_up(client, "three", "3@example.com", address="198.51.100.3").status_code == 429


def test_sign_up_answers_the_same_whether_or_not_the_email_is_known(client, user):
    known = _sign_up(client, "other", "ADA@example.com")
    client.logout()
    unknown = _sign_up(client, "stranger", "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert "already exists" not in known.text


def test_confirmation_is_on_by_default_once_mail_is_configured(monkeypatch):
    import importlib

    import voiceclone_site.settings as site_settings

    monkeypatch.setenv("EMAIL_URL", "smtp://mail.example.com:25")
    assert importlib.reload(site_settings).SIGNUP_EMAIL_CONFIRMATION is True
    monkeypatch.delenv("EMAIL_URL")
    assert importlib.reload(site_settings).SIGNUP_EMAIL_CONFIRMATION is False


def test_an_unconfirmed_account_has_no_quota_until_its_link_is_followed(client, settings, django_user_model):
    settings.SIGNUP_EMAIL_CONFIRMATION = True
    _sign_up(client, "newcomer", "new@example.com")
    newcomer = django_user_model.objects.get(username="newcomer")
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]

    form = SpeechForm({"text": "Hello.", "speed": 1, "volume": 1, "voice": "tongtong"}, owner=newcomer)
    assert form.is_valid()
    with pytest.raises(Exception, match="confirm your email address"):
        submit_speech(form)
    assert not Usage.objects.filter(user=newcomer).exists()

    link = re.search(r"http://testserver(/accounts/confirm/\S+/)", message.body).group(1)
    assert "Confirm" in client.get(link).text
    assert EmailConfirmation.is_pending_for(newcomer)  # opening the link changes nothing
    client.post(link)
    assert not EmailConfirmation.is_pending_for(newcomer)
    charge(newcomer, Usage.Kind.SPEECH_CHARS, 6)


def test_a_second_account_cannot_confirm_an_address_another_account_holds(client, settings, user):
    settings.SIGNUP_EMAIL_CONFIRMATION = True
    response = _sign_up(client, "sock", "ada@example.com")
    assert response.status_code == 302  # the same answer as for any address
    (message,) = mail.outbox
    link = re.search(r"http://testserver(/accounts/confirm/\S+/)", message.body).group(1)
    assert "Another account already uses this address" in client.post(link).text
    assert EmailConfirmation.objects.get(user__username="sock").confirmed_at is None


def test_password_reset_says_the_same_for_known_and_unknown_addresses(client, user):
    known = client.post(reverse("password_reset"), {"email": "ada@example.com"}, REMOTE_ADDR="198.51.100.1")
    unknown = client.post(reverse("password_reset"), {"email": "who@example.com"}, REMOTE_ADDR="198.51.100.2")
    assert known.status_code == unknown.status_code == 302 and known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1


def test_password_reset_mails_to_one_address_are_limited(client, settings, user):
    settings.PASSWORD_RESET_MAILS_PER_EMAIL_PER_HOUR = 2
    for number in range(5):
        response = client.post(
            reverse("password_reset"), {"email": "ada@example.com"}, REMOTE_ADDR=f"198.51.100.{number}"
        )
        assert response.status_code == 302  # the page says nothing about the limit
    assert len(mail.outbox) == 2


def test_password_resets_from_one_address_are_limited(client, settings, user):
    settings.PASSWORD_RESETS_PER_ADDRESS_PER_HOUR = 3
    for number in range(3):
        client.post(reverse("password_reset"), {"email": f"x{number}@example.com"}, REMOTE_ADDR="203.0.113.9")
    response = client.post(reverse("password_reset"), {"email": "ada@example.com"}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429 and "Too many password resets" in response.text
    assert mail.outbox == []


def test_one_address_cannot_try_passwords_against_every_username(client, settings, django_user_model):
    settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 5, 6
    for number in range(4):
        django_user_model.objects.create_user(f"user{number}", password="correct horse battery")
    # Two wrong passwords per username stays under the per-username limit, but not under the address's.
    for number in range(3):
        for _attempt in range(2):
            client.post(reverse("login"), {"username": f"user{number}", "password": "guess"}, REMOTE_ADDR="203.0.113.5")
    response = client.post(
        reverse("login"), {"username": "user3", "password": "correct horse battery"}, REMOTE_ADDR="203.0.113.5"
    )
    assert response.status_code == 429 and "Too many attempts" in response.text
    # Elsewhere the same account still logs in.
    response = client.post(
        reverse("login"), {"username": "user3", "password": "correct horse battery"}, REMOTE_ADDR="198.51.100.8"
    )
    assert response.status_code == 302


def test_logging_in_to_ones_own_account_does_not_clear_the_address_count(client, settings, django_user_model):
    settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 5, 4
    django_user_model.objects.create_user("victim", password="correct horse battery")
    django_user_model.objects.create_user("attacker", password="attacker's own phrase")
    address = {"REMOTE_ADDR": "203.0.113.6"}
    for _attempt in range(3):
        client.post(reverse("login"), {"username": "victim", "password": "guess"}, **address)
    client.post(reverse("login"), {"username": "attacker", "password": "attacker's own phrase"}, **address)
    client.logout()
    client.post(reverse("login"), {"username": "victim", "password": "guess"}, **address)
    response = client.post(reverse("login"), {"username": "victim", "password": "correct horse battery"}, **address)
    assert response.status_code == 429
