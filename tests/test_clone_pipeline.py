"""The provider steps of clones.pipeline, run in-process against the sandbox over real HTTP."""

import pytest
from django.core.files.base import ContentFile

from clones import bigmodel, pipeline
from clones.models import Clone
from tests.samples import wav_bytes, wav_duration

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key, read_timeout=10) as client:
        yield client


@pytest.fixture
def clone(user):
    clone = Clone(
        owner=user,
        name="Test",
        provider_model="glm-tts-clone",
        preview_text="This is my preview.",
        sample_format="wav",
        sample_duration=4.0,
    )
    clone.sample.save("ignored.wav", ContentFile(wav_bytes(4)), save=False)
    clone.save()
    return clone


def provider_calls(sandbox, route):
    return len(sandbox.calls(route))


def test_process_runs_every_step_and_stores_the_preview(clone, client, sandbox):
    pipeline.process(clone, client)
    clone.refresh_from_db()
    assert clone.status == Clone.Status.READY and clone.finished_at
    assert clone.sample_file_id and clone.voice_id and clone.preview_file_id
    assert len(clone.request_id) == 32
    preview = clone.preview_audio.read()
    assert preview[:4] == b"RIFF" and 0.5 < wav_duration(preview) < 10
    assert clone.preview_audio.name == f"previews/{clone.uuid}.wav"
    # The preview's waveform is drawn from peaks computed as it is fetched.
    assert len(clone.preview_peaks) == 120 and 0.05 < max(clone.preview_peaks) <= 1
    # And its length, so the gallery can show it before anyone presses play.
    assert clone.preview_duration == pytest.approx(wav_duration(preview), abs=0.05)
    assert [v["voice"] for v in sandbox.voices()] == [clone.voice_id]


def test_rerun_repeats_no_finished_step(clone, client, sandbox):
    pipeline.process(clone, client)
    pipeline.process(clone, client)
    assert provider_calls(sandbox, "files.upload") == 1
    assert provider_calls(sandbox, "voice.clone") == 1
    assert provider_calls(sandbox, "download") == 1


def test_lost_clone_answer_adopts_the_voice_instead_of_cloning_again(clone, client, sandbox):
    sandbox.set_faults([{"route": "voice.clone", "action": "drop_after"}])
    with pytest.raises(bigmodel.ConnectionFailed):
        pipeline.process(clone, client)
    pipeline.process(clone, client)
    clone.refresh_from_db()
    assert clone.status == Clone.Status.READY
    assert provider_calls(sandbox, "voice.clone") == 1
    assert [v["voice"] for v in sandbox.voices()] == [clone.voice_id]
    assert clone.preview_audio.read()[:4] == b"RIFF"  # through the voice list's download_url


def test_the_preview_comes_from_the_voice_lists_download_url_and_the_route_is_recorded(clone, client, sandbox):
    pipeline.process(clone, client)
    clone.refresh_from_db()
    assert clone.preview_route == Clone.PreviewRoute.DOWNLOAD_URL
    assert provider_calls(sandbox, "download") == 1 and provider_calls(sandbox, "files.content") == 0


def test_without_a_download_the_preview_is_spoken_with_the_new_voice(clone, client, sandbox):
    sandbox.set_faults([{"route": "download", "action": "error", "status": 404, "times": None}])
    pipeline.process(clone, client)
    clone.refresh_from_db()
    assert clone.status == Clone.Status.READY and clone.preview_route == Clone.PreviewRoute.SPEECH
    assert clone.preview_audio.read()[:4] == b"RIFF"
    assert provider_calls(sandbox, "files.content") == 1  # refused: previews are not batch files


NO_ROUTE = [
    {"route": "download", "action": "error", "status": 404, "times": None},
    {"route": "audio.speech", "action": "error", "status": 400, "code": "1214", "times": None},
]


def test_a_voice_without_any_preview_is_ready_with_its_preview_unavailable(clone, client, sandbox):
    sandbox.set_faults(NO_ROUTE)
    with pytest.raises(bigmodel.PreviewUnavailable) as caught:
        pipeline.process(clone, client)
    pipeline.fail(clone, caught.value)
    clone.refresh_from_db()
    assert clone.status == Clone.Status.READY and clone.is_finished and clone.voice_id
    assert clone.preview_unavailable and not clone.preview_audio
    assert clone.preview_route == Clone.PreviewRoute.UNAVAILABLE and clone.error_code == "preview"
    assert clone.failure_reason == ""


def test_a_preview_route_that_may_recover_is_retried_first(clone, client, sandbox):
    sandbox.set_faults([*NO_ROUTE[:1], {"route": "audio.speech", "action": "error", "status": 503, "times": None}])
    with pytest.raises(bigmodel.TransientError):
        pipeline.process(clone, client)
    clone.refresh_from_db()
    assert clone.status == Clone.Status.FETCHING_PREVIEW and not clone.preview_route


def test_fetching_an_unavailable_preview_again_finds_it(clone, client, sandbox):
    sandbox.set_faults(NO_ROUTE)
    with pytest.raises(bigmodel.PreviewUnavailable) as caught:
        pipeline.process(clone, client)
    pipeline.fail(clone, caught.value)
    sandbox.clear_faults()
    clone.preview_route = ""
    clone.reset_for_retry("preview_route")
    assert clone.claim()
    pipeline.process(clone, client)
    clone.refresh_from_db()
    assert clone.status == Clone.Status.READY and clone.preview_route == Clone.PreviewRoute.DOWNLOAD_URL
    assert not clone.preview_unavailable and clone.error_code == ""
    assert [v["voice"] for v in sandbox.voices()] == [clone.voice_id]  # the same voice, not a new one


def test_claim_is_exclusive_until_released(clone):
    assert clone.claim()
    assert not Clone.objects.get(pk=clone.pk).claim()
    clone.release()
    assert Clone.objects.get(pk=clone.pk).claim()
    assert Clone.objects.get(pk=clone.pk).attempts == 2


def test_failure_keeps_provider_code_and_reads_well(clone, client, sandbox):
    sandbox.set_faults(
        [
            {
                "route": "voice.clone",
                "action": "error",
                "status": 400,
                "code": "1301",
                "message": "contains sensitive content",
            }
        ]
    )
    with pytest.raises(bigmodel.ContentRejected) as caught:
        pipeline.process(clone, client)
    pipeline.fail(clone, caught.value)
    clone.refresh_from_db()
    assert clone.status == Clone.Status.FAILED
    assert (clone.error_code, clone.error_message) == ("1301", "contains sensitive content")
    assert "content policy" in str(clone.failure_reason)
