"""Usage you can see: clones and speech characters against the limits, on the clone form, the speak
page and the account page; a refusal says when it will be allowed again."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Limits, Usage, usage_summary

pytestmark = pytest.mark.django_db


def spend(user, kind, amount, ago, now=None):
    Usage.objects.create(user=user, kind=kind, amount=amount, created_at=(now or timezone.now()) - ago)


def local_moment(day, hour):
    """A fixed moment of this month in the site's time zone, so the month total does not depend on when CI runs."""
    return timezone.localtime().replace(day=day, hour=hour, minute=0, second=0, microsecond=0)


def test_the_summary_counts_the_last_24_hours_against_the_limit_and_the_month(user, settings):
    settings.QUOTA_CLONES_PER_DAY = 10
    Limits.objects.create(user=user, speech_chars_per_day=500)
    now = local_moment(day=15, hour=12)
    spend(user, "clone", 1, timedelta(hours=2), now)
    spend(user, "clone", 1, timedelta(hours=30), now)  # not today, but this month
    spend(user, "clone", 1, timedelta(days=20), now)  # last month
    spend(user, "speech_chars", 120, timedelta(minutes=5), now)
    summary = usage_summary(user, now=now)
    assert (summary["clone"].used, summary["clone"].limit, summary["clone"].left) == (1, 10, 9)
    assert summary["clone"].month == 2
    assert (summary["speech_chars"].used, summary["speech_chars"].limit) == (120, 500)
    assert summary["clone"].frees_at is None


def test_just_after_midnight_on_the_first_the_month_starts_again_but_the_day_does_not(user, settings):
    settings.QUOTA_CLONES_PER_DAY = 10
    now = local_moment(day=1, hour=0) + timedelta(minutes=15)
    spend(user, "clone", 1, timedelta(hours=2), now)  # last month's last evening
    spend(user, "clone", 1, timedelta(minutes=5), now)
    summary = usage_summary(user, now=now)
    assert (summary["clone"].used, summary["clone"].month) == (2, 1)


def test_a_used_up_limit_says_when_it_comes_back(user, settings):
    settings.QUOTA_CLONES_PER_DAY = 2
    spend(user, "clone", 1, timedelta(hours=20))
    spend(user, "clone", 1, timedelta(hours=1))
    frees_at = usage_summary(user)["clone"].frees_at
    assert timedelta(hours=3, minutes=59) < frees_at - timezone.now() <= timedelta(hours=4)


@pytest.mark.parametrize("page", ["clones:create", "clones:speak", "account"])
def test_usage_is_shown_where_it_is_spent_and_on_the_account_page(client, user, settings, page):
    settings.QUOTA_CLONES_PER_DAY = 10
    settings.QUOTA_SPEECH_CHARS_PER_DAY = 100_000
    spend(user, "clone", 3, timedelta(hours=1))
    spend(user, "speech_chars", 1234, timedelta(hours=1))
    client.force_login(user)
    text = client.get(reverse(page)).text
    assert "Clones, last 24 hours" in text and "3 of 10" in text
    assert "1,234 of 100,000" in text
    assert '<meter min="0" max="10" value="3"' in text


def test_a_full_limit_is_said_with_its_time_on_the_form(client, user, settings):
    settings.QUOTA_CLONES_PER_DAY = 1
    spend(user, "clone", 1, timedelta(hours=1))
    client.force_login(user)
    assert "Limit reached: you can clone again from " in client.get(reverse("clones:create")).text


def test_the_dashboard_shows_usage_to_people_signed_in(client, user):
    client.force_login(user)
    assert "Your usage" in client.get(reverse("home")).text
