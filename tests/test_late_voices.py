"""A clone call that timed out may still make the voice later: we adopt it, never abandon a paid voice."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from clones import bigmodel
from clones.models import Clone
from clones.reconcile import reconcile
from clones.tasks import process_clone, sweep_stuck_work
from tests.samples import wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
        yield client


def make_voice_named(api, voice_name):
    """What an earlier clone call of ours did at the provider, although we never heard back."""
    file_id = api.upload_file(io.BytesIO(wav_bytes(4)), "s.wav").id
    return api.clone_voice(voice_name=voice_name, input="Hi.", file_id=file_id, model="glm-tts-clone").voice


def test_name_taken_by_our_own_late_voice_is_adopted_not_failed(api, sandbox, make_clone):
    clone = make_clone(status=Clone.Status.QUEUED)
    voice = make_voice_named(api, clone.voice_name)
    process_clone.apply(args=[clone.pk])
    clone.refresh_from_db()
    # Our second clone call was refused (the name was taken by our first): we took that voice.
    assert [c["code"] for c in sandbox.calls("voice.clone")] == [None, "1214"]
    assert clone.status == Clone.Status.READY and clone.voice_id == voice
    assert len(sandbox.voices()) == 1


def test_sweep_adopts_a_voice_that_appeared_after_the_clone_failed(api, sandbox, make_clone, settings):
    long_ago = timezone.now() - timedelta(hours=1)
    clone = make_clone(status=Clone.Status.FAILED, clone_requested_at=long_ago, finished_at=long_ago)
    voice = make_voice_named(api, clone.voice_name)
    assert sweep_stuck_work()["late voices"] == 1
    clone.refresh_from_db()
    assert clone.voice_id == voice and clone.status == Clone.Status.QUEUED and clone.late_voice_checked_at
    assert sweep_stuck_work()["late voices"] == 0  # checked once


def test_reconcile_lists_a_voice_held_under_a_failed_clones_name(api, make_clone):
    clone = make_clone(status=Clone.Status.FAILED)
    voice = make_voice_named(api, clone.voice_name)
    assert [v.voice for v in reconcile(api).unknown] == [voice]
