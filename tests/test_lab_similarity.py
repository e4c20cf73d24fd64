"""The similarity score: Resemblyzer's voice encoder, run in numpy from the weights its wheel ships."""

import numpy as np
import pytest
from django.core.files.base import ContentFile

from lab import similarity
from tests.voices import SENTENCES, speak


def test_the_weights_come_from_the_installed_package_without_pytorch():
    weights = similarity.load_checkpoint(similarity._weights_path())

    assert weights["lstm.weight_ih_l0"].shape == (1024, 40)
    assert weights["lstm.weight_hh_l2"].shape == (1024, 256)
    assert weights["linear.weight"].shape == (256, 256)
    assert all(w.dtype == np.float32 and np.isfinite(w).all() for w in weights.values())


def test_an_embedding_is_a_unit_vector():
    samples, rate = speak(SENTENCES[0])
    embedding = similarity.VoiceEncoder.load().embed(similarity.prepare(samples, rate))

    assert embedding.shape == (256,)
    assert np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-5)


def test_the_same_speaker_saying_other_words_scores_higher_than_another_speaker():
    reference = speak(f"{SENTENCES[0]} {SENTENCES[2]}", "low")
    same = speak(f"{SENTENCES[1]} {SENTENCES[3]}", "low")
    other = speak(f"{SENTENCES[1]} {SENTENCES[3]}", "high")

    same_score = similarity.similarity(reference, same)
    other_score = similarity.similarity(reference, other)

    assert same_score > 0.85
    assert other_score < 0.75
    assert same_score - other_score > 0.15


def test_the_score_does_not_depend_on_the_recordings_rate_or_level():
    reference = speak(SENTENCES[0], "low")
    samples, rate = speak(SENTENCES[1], "low")  # eSpeak speaks at 22050 Hz

    quieter_at_44k = (np.repeat(samples, 2) * 0.3, 2 * rate)
    assert similarity.similarity(reference, (samples, rate)) == pytest.approx(
        similarity.similarity(reference, quieter_at_44k), abs=0.03
    )


@pytest.mark.django_db
def test_a_clone_becoming_ready_queues_its_score_and_other_saves_do_not(
    settings, make_clone, django_capture_on_commit_callbacks
):
    from clones.models import Clone

    settings.LAB_SIMILARITY = True
    with django_capture_on_commit_callbacks() as queued:
        clone = make_clone(status=Clone.Status.READY)
    assert len(queued) == 1
    with django_capture_on_commit_callbacks() as queued:
        clone.name = "Renamed"
        clone.save(update_fields=["name"])
    assert queued == []

    settings.LAB_SIMILARITY = False
    with django_capture_on_commit_callbacks() as queued:
        make_clone(status=Clone.Status.READY)
    assert queued == []


@pytest.mark.django_db
def test_the_score_task_stores_the_score_of_a_ready_clone(settings, make_clone):
    from lab.models import SimilarityScore
    from lab.tasks import score_clone
    from tests.voices import speech_wav

    settings.LAB_SIMILARITY = True
    clone = make_clone(preview=speech_wav(SENTENCES[1], "low"))
    clone.sample.save("s.wav", ContentFile(speech_wav(SENTENCES[0], "low")))
    score_clone(clone.pk)
    row = SimilarityScore.objects.get(clone=clone)
    assert row.score > 0.85 and row.model == similarity.MODEL_NAME and row.seconds > 0


def test_a_sandbox_preview_is_a_synthetic_voice_not_a_copy_of_the_sample(tmp_path):
    """The sandbox stands in for the provider, whose preview is a synthetic voice: it must score below the
    speaker's own voice saying other words (a preview made from the sample's audio would score as high)."""
    import requests

    from sandbox.testing import running_sandbox
    from tests.voices import speech_wav

    sample_wav = speech_wav(f"{SENTENCES[0]} {SENTENCES[1]} {SENTENCES[2]}", "high")
    with running_sandbox(tmp_path) as server:
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {server.api_key}"
        upload = api.post(
            f"{server.base_url}/files", files={"file": ("s.wav", sample_wav)}, data={"purpose": "voice-clone-input"}
        )
        body = {
            "model": "glm-tts-clone",
            "voice_name": "vc_scored",
            "input": SENTENCES[4],
            "file_id": upload.json()["id"],
        }
        assert api.post(f"{server.base_url}/voice/clone", json=body).status_code == 200
        listed = api.get(f"{server.base_url}/voice/list", params={"voiceType": "PRIVATE", "voiceName": "vc_scored"})
        preview_wav = requests.get(listed.json()["voice_list"][0]["download_url"], timeout=10).content

    def heard(wav):
        from clones.audio import decode_mono

        return decode_mono(wav, rate=similarity.RATE).astype("float32") / 32768, similarity.RATE

    sample = heard(sample_wav)
    preview = similarity.similarity(sample, heard(preview_wav))
    same = similarity.similarity(sample, speak(f"{SENTENCES[3]} {SENTENCES[4]}", "high"))
    other = similarity.similarity(sample, speak(f"{SENTENCES[3]} {SENTENCES[4]}", "low"))
    assert same > preview + 0.1
    assert same > other + 0.15
