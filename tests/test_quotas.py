"""Cost control: per-user daily quotas and a submission rate limit, enforced atomically."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import Limits, ProviderCall, QuotaExceeded, Usage, charge, meter
from clones.models import Clone, Utterance
from tests.samples import wav_bytes

pytestmark = pytest.mark.django_db


def clone_form(**fields):
    return {"name": "Voice", "preview_text": "Hello.", "language": "en", "visibility": "private", "consent": "on",
            "sample": SimpleUploadedFile("s.wav", wav_bytes(4)), **fields}  # fmt: skip


def test_clone_quota_refuses_with_a_clear_message_and_nothing_stored(client, user, settings):
    settings.QUOTA_CLONES_PER_DAY = 2
    client.force_login(user)
    for _ in range(2):
        assert client.post(reverse("clones:create"), clone_form()).status_code == 302
    refused = client.post(reverse("clones:create"), clone_form())
    assert refused.status_code == 429
    assert "You have used your 2 clones for the last 24 hours. It will be allowed again at " in refused.text
    assert Clone.objects.count() == 2


def test_deleting_a_clone_does_not_refund_it(client, user, settings, make_clone):
    settings.QUOTA_CLONES_PER_DAY = 1
    client.force_login(user)
    client.post(reverse("clones:create"), clone_form())
    Clone.objects.all().delete()
    assert client.post(reverse("clones:create"), clone_form()).status_code == 429


def test_staff_override_per_user(client, user, settings):
    settings.QUOTA_CLONES_PER_DAY = 0
    Limits.objects.create(user=user, clones_per_day=1)
    client.force_login(user)
    assert client.post(reverse("clones:create"), clone_form()).status_code == 302


def test_submission_rate_limit(client, user, settings):
    settings.RATE_LIMIT_PER_MINUTE = 2
    client.force_login(user)
    codes = [client.post(reverse("clones:create"), clone_form()).status_code for _ in range(3)]
    assert codes == [302, 302, 429]


def test_speech_characters_quota(client, user, settings, make_clone):
    settings.QUOTA_SPEECH_CHARS_PER_DAY = 30
    clone = make_clone(voice_id="3af4deae-494f-5af1-82a9-0643d4dba0ad")
    client.force_login(user)
    url = reverse("clones:speak_with_clone", args=[clone.uuid])
    assert client.post(url, {"text": "x" * 20, "speed": 1, "volume": 1}).status_code == 302
    refused = client.post(url, {"text": "y" * 20, "speed": 1, "volume": 1})
    assert "This would pass your limit of 30 characters of speech in 24 hours (20 used)." in refused.text
    assert "It will be allowed again at " in refused.text
    assert Utterance.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_submissions_with_a_quota_of_five_make_five_clones(live_server, user, settings):
    settings.QUOTA_CLONES_PER_DAY = 5
    settings.RATE_LIMIT_PER_MINUTE = 100
    session = requests.Session()
    login_page = session.get(f"{live_server.url}/accounts/login/")
    assert login_page.status_code == 200
    credentials = {"username": "ada", "password": "correct horse battery"}
    session.post(
        f"{live_server.url}/accounts/login/", data={**credentials, "csrfmiddlewaretoken": session.cookies["csrftoken"]}
    )
    token = session.cookies["csrftoken"]
    sample = wav_bytes(4)

    def submit(n):
        response = session.post(
            f"{live_server.url}/clones/new/",
            data={"name": f"Voice {n}", "preview_text": "Hello.", "language": "en", "visibility": "private",
                  "consent": "on", "csrfmiddlewaretoken": token},
            files={"sample": ("s.wav", sample)}, headers={"Referer": live_server.url}, allow_redirects=False,
        )  # fmt: skip
        return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = sorted(pool.map(submit, range(20)))
    assert codes.count(302) == 5 and codes.count(429) == 15
    assert Clone.objects.count() == 5
    assert Usage.objects.filter(kind="clone").count() == 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's (SQLite locks the file)")
@pytest.mark.django_db(transaction=True)
def test_a_charge_in_progress_does_not_hold_back_a_paid_calls_ledger_row(user):
    # A stream's part meters its call while the same user's next requests charge; waiting for their lock
    # held the first audio of 20 simultaneous streams back by seconds (bench/README.md).
    charged, finish = threading.Event(), threading.Event()

    def charging():
        try:
            with transaction.atomic():
                charge(user, Usage.Kind.SPEECH_CHARS, 10)
                charged.set()
                finish.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=charging)
    thread.start()
    try:
        assert charged.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            meter(user.pk, "audio.speech", 10, "utterance:1")
    finally:
        finish.set()
        thread.join()
    assert ProviderCall.objects.filter(user=user).count() == 1 and Usage.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_per_call_charge_fills_the_limit_exactly_and_is_refused_past_it(user, settings):
    """The studio's per-call charge (one statement under the lock): up to the limit, not one character more,
    and yesterday's spending no longer counts."""
    settings.QUOTA_SPEECH_CHARS_PER_DAY = 100
    Usage.objects.create(user=user, kind="speech_chars", amount=100, created_at=timezone.now() - timedelta(hours=25))
    for amount in (60, 40):
        with transaction.atomic():
            charge(user, Usage.Kind.SPEECH_CHARS, amount, per_minute=False)
    with pytest.raises(QuotaExceeded) as refused, transaction.atomic():
        charge(user, Usage.Kind.SPEECH_CHARS, 1, per_minute=False)
    assert "100 characters" in str(refused.value) and "(100 used)" in str(refused.value)
    today = Usage.objects.filter(user=user, created_at__gte=timezone.now() - timedelta(days=1))
    assert list(today.order_by("created_at").values_list("amount", "submission")) == [(60, False), (40, False)]


@pytest.mark.django_db(transaction=True)
def test_parallel_per_call_charges_never_pass_the_limit(user, settings):
    """Twenty takes of one owner charge at once (a "generate all"): exactly as many as fit are let through."""
    settings.QUOTA_SPEECH_CHARS_PER_DAY = 700

    def take(_):
        try:
            with transaction.atomic():
                charge(user, Usage.Kind.SPEECH_CHARS, 100, per_minute=False)
            return "charged"
        except QuotaExceeded:
            return "refused"
        except OperationalError:  # SQLite: the database stayed locked past its timeout
            return "busy"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(take, range(20)))
    assert outcomes.count("charged") == 7
    assert Usage.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] == 700
