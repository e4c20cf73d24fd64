"""Every paid provider call is metered to its owner before it goes out; the ledger says what a user cost today."""

import pytest
from django.urls import reverse

from accounts.models import ProviderCall, UnbilledCall, Usage
from clones import bigmodel
from clones.models import Clone, Utterance
from clones.pipeline import provider_client
from clones.tasks import process_clone, synthesize_utterance
from clones.text import split_text

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_clone_pipeline_meters_upload_clone_and_preview_to_its_owner(make_clone, sandbox, user, other_user):
    clone = make_clone(status=Clone.Status.QUEUED)
    process_clone.apply(args=[clone.pk])  # the task itself, in this process, against the sandbox
    clone.refresh_from_db()
    assert clone.is_ready
    metered = {
        route: total["calls"] for route, total in ProviderCall.objects.filter(user=user).today().totals().items()
    }
    made = {route: len(sandbox.calls(route)) for route in bigmodel.PAID_ROUTES}
    assert metered == {route: count for route, count in made.items() if count}
    assert metered["files.upload"] == metered["voice.clone"] == 1
    assert sum(metered.get(route, 0) for route in ("files.content", "download", "audio.speech")) == 1  # the preview
    assert set(ProviderCall.objects.values_list("subject", flat=True)) == {f"clone:{clone.pk}"}
    assert not ProviderCall.objects.filter(user=other_user).exists()


def test_speech_is_metered_part_by_part_in_characters(user, sandbox, settings):
    settings.SPEECH_PARALLEL_PARTS = 2
    text = "The quick brown fox jumps over the lazy dog near the river bank. " * 30  # two parts
    utterance = Utterance.objects.create(owner=user, system_voice="tongtong", text=text)
    synthesize_utterance.apply(args=[utterance.pk])
    utterance.refresh_from_db()
    assert utterance.status == Utterance.Status.READY and utterance.parts == 2
    total = ProviderCall.objects.filter(user=user).today().totals()["audio.speech"]
    assert total["calls"] == 2
    assert total["calls"] == len(sandbox.calls("audio.speech"))
    assert total["units"] == sum(len(part) for part in split_text(utterance.text, bigmodel.SPEECH_MAX_CHARS))


def test_a_paid_call_with_nobody_to_bill_is_refused_before_it_goes_out(sandbox):
    with provider_client() as client:
        with pytest.raises(UnbilledCall):
            client.speech(input="Hello.", voice="tongtong", model="glm-tts")
        client.list_voices()  # free calls need no owner
    assert sandbox.calls("audio.speech") == []


def test_retrying_a_failed_clone_is_charged_to_its_owner(client, user, make_clone, settings, sandbox):
    settings.QUOTA_CLONES_PER_DAY = 3
    client.force_login(user)
    clone = make_clone(status=Clone.Status.FAILED)
    for _attempt in range(3):
        client.post(reverse("clones:retry", args=[clone.uuid]))
        Clone.objects.filter(pk=clone.pk).update(status=Clone.Status.FAILED)  # as if it failed again
    assert Usage.objects.filter(user=user, kind=Usage.Kind.CLONE).count() == 3
    response = client.post(reverse("clones:retry", args=[clone.uuid]), follow=True)
    assert "You have used your 3 clones" in response.text
    clone.refresh_from_db()
    assert clone.status == Clone.Status.FAILED


def test_the_admin_shows_each_users_cost_today(admin_client, user):
    ProviderCall.objects.create(user=user, route="audio.speech", units=120, subject="utterance:1")
    ProviderCall.objects.create(user=user, route="audio.speech", units=80, subject="utterance:1")
    ProviderCall.objects.create(user=user, route="voice.clone", units=1, subject="clone:1")
    listing = admin_client.get(reverse("admin:auth_user_changelist")).text
    assert "2 × audio.speech (200 units)" in listing and "1 × voice.clone (1 units)" in listing
    page = admin_client.get(reverse("admin:auth_user_change", args=[user.pk])).text
    assert "2 × audio.speech (200 units)" in page


def test_an_operators_paid_checks_are_metered_as_the_sites_own(sandbox):
    import io

    from django.core.management import call_command

    call_command("check_provider", "--spend", stdout=io.StringIO())
    site = ProviderCall.objects.filter(user=None, subject="check_provider").today().totals()
    assert site["voice.clone"]["calls"] == len(sandbox.calls("voice.clone")) >= 1  # every call it made
