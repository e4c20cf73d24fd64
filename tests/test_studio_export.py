"""Exports: chosen takes in order, each matched to the project's loudness with the same BS.1770 measure as
sample intake, pauses as digital silence, WAV or MP3 from PyAV, captions from the real timings, cue times
kept for subtitle scripts, and no take decoded twice."""

import os
import wave

import numpy as np
import pytest
from django.core.files.base import ContentFile

from clones.audio import decode_mono
from clones.intake import integrated_loudness
from studio import mastering
from studio.forms import ExportForm
from studio.models import Export, Line, Project, Take
from studio.tasks import run_export
from tests.samples import voice_like

pytestmark = pytest.mark.django_db

RATE = 24000


def take_wav(seconds, level, f0=140.0):
    samples, _rate = voice_like(seconds, f0=f0, rate=RATE, level=level)
    return mastering.wav_bytes(np.rint(samples * 32767).astype(np.int16))


def make_project(user, takes, *, target=-16.0, cues=None, pauses=None):
    """A project whose lines each have one ready, chosen take of (seconds, level) voice-like audio."""
    project = Project.objects.create(owner=user, title="Export", loudness_target=target)
    for index, (seconds, level) in enumerate(takes):
        line = Line.objects.create(project=project, position=index, text=f"Line {index} [pause 0.1s] words.")
        if cues:
            line.cue_start = cues[index]
        if pauses:
            line.pause_after = pauses[index]
        take = Take(line=line, text=line.text, voice="tongtong", voice_label="T", revision=1, status="ready")
        take.audio.save(f"{take.uuid}.wav", ContentFile(take_wav(seconds, level, 120 + 30 * index)), save=False)
        take.duration = seconds
        take.save()
        line.chosen_take = take
        line.save()
    return project


def export(project, **fields):
    export = Export.objects.create(project=project, **fields)
    run_export(export.pk)
    export.refresh_from_db()
    return export


def read_wav(export):
    with export.audio.open("rb") as file, wave.open(file) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (RATE, 1, 2)
        return np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")


def test_each_take_is_matched_to_the_target_and_pauses_are_silence(user):
    # A whisper and a shout: after the export, neither jumps out.
    project = make_project(user, [(3.0, 0.02), (3.0, 0.9), (2.0, 0.2)], pauses=[0.75, 1.25, 0.5])
    result = export(project)
    assert result.status == "ready" and result.decoded_takes == 3  # none was normalized before
    samples = read_wav(result)
    cues = result.cues
    assert [c[2] for c in cues] == ["Line 0 words.", "Line 1 words.", "Line 2 words."]
    assert cues[0][0] == 0 and cues[0][1] == 3.0
    assert cues[1][0] == pytest.approx(3.75) and cues[2][0] == pytest.approx(3.75 + 3.0 + 1.25)
    assert len(samples) == round((3 + 0.75 + 3 + 1.25 + 2) * RATE)
    for start, end, _text in cues:
        piece = samples[round(start * RATE) : round(end * RATE)].astype(np.float32) / 32768
        assert integrated_loudness(piece, RATE) == pytest.approx(-16.0, abs=0.3)
    assert 20 * np.log10(np.max(np.abs(samples)) / 32768) < -1.0
    # The pauses between lines are exact digital silence.
    assert not samples[round(3.0 * RATE) + 1 : round(3.75 * RATE) - 1].any()


def test_a_loud_target_is_held_back_by_the_peak_ceiling(user):
    project = make_project(user, [(2.0, 0.3)], target=-6.0)
    samples = read_wav(export(project)).astype(np.float32) / 32768
    assert 20 * np.log10(np.max(np.abs(samples))) == pytest.approx(-1.0, abs=0.05)


def test_mp3_is_encoded_by_pyav_and_lasts_as_long_as_the_wav(user):
    project = make_project(user, [(2.0, 0.3), (1.5, 0.3)])
    wav_export, mp3_export = export(project), export(project, format="mp3")
    assert mp3_export.status == "ready" and mp3_export.audio.name.endswith(".mp3")
    data = mp3_export.audio.read()
    assert data[:3] == b"ID3" or data[0] == 0xFF
    decoded = decode_mono(data, RATE)
    assert len(decoded) / RATE == pytest.approx(wav_export.duration, abs=0.1)
    assert mp3_export.cues == wav_export.cues
    assert mp3_export.decoded_takes == 0  # the WAV export normalized every take already


def test_a_re_export_decodes_only_takes_that_changed(user):
    project = make_project(user, [(1.0, 0.3)] * 4)
    assert export(project).decoded_takes == 4
    assert export(project).decoded_takes == 0
    # A new take on one line (as a regeneration makes, here without normalized audio): only it is decoded.
    line = project.ordered_lines()[2]
    take = Take(line=line, text=line.text, voice="tongtong", voice_label="T", revision=1, status="ready")
    take.audio.save(f"{take.uuid}.wav", ContentFile(take_wav(1.0, 0.5)), save=False)
    take.save()
    line.choose(take)
    assert export(project).decoded_takes == 1
    # A new loudness target changes every line.
    Project.objects.filter(pk=project.pk).update(loudness_target=-20.0)
    assert export(project).decoded_takes == 4


def test_subtitle_scripts_can_keep_each_line_at_its_cue(user):
    project = make_project(user, [(1.0, 0.3), (2.0, 0.3), (1.0, 0.3)], cues=[0.5, 2.0, 3.5])
    project.source_format = Project.Format.SRT
    project.save()
    result = export(project, keep_cue_times=True)
    starts = [cue[0] for cue in result.cues]
    # The second line runs past the third cue's start: the third starts as soon as it can, never overlaps.
    assert starts == [0.5, 2.0, 4.0]
    samples = read_wav(result)
    assert not samples[: round(0.5 * RATE)].any()
    flowing = export(project)
    assert [cue[0] for cue in flowing.cues] == [0, 1.5, 4.0]  # pauses after each line, cues ignored


def test_export_is_refused_while_a_line_has_no_chosen_take(user):
    project = make_project(user, [(1.0, 0.3), (1.0, 0.3)])
    Line.objects.create(project=project, position=2, text="Not generated.")
    form = ExportForm({"format": "wav"}, project=project)
    assert not form.is_valid()
    assert form.non_field_errors() == ["These lines have no chosen take yet: 3. Generate them first."]
    assert Export.objects.count() == 0


def test_captions_are_served_from_the_export(client, user):
    project = make_project(user, [(1.0, 0.3), (1.0, 0.3)])
    result = export(project)
    client.force_login(user)
    srt = client.get(f"/studio/exports/{result.uuid}/captions.srt?download=1")
    assert srt["Content-Type"] == "application/x-subrip; charset=utf-8"
    assert srt["Content-Disposition"] == f'attachment; filename="studio-{result.uuid}.srt"'
    assert (
        srt.text
        == "1\n00:00:00,000 --> 00:00:01,000\nLine 0 words.\n\n2\n00:00:01,500 --> 00:00:02,500\nLine 1 words.\n"
    )
    audio = client.get(result.get_audio_url(), HTTP_RANGE="bytes=0-43")
    assert audio.status_code == 206 and b"".join(audio.streaming_content)[:4] == b"RIFF"
    assert client.get(f"/studio/exports/{result.uuid}/captions.txt").status_code == 404


def test_export_writes_through_a_file_and_never_holds_the_programme(user, monkeypatch):
    """The writer is handed a second of audio at a time, whatever the length of the programme."""
    project = make_project(user, [(5.0, 0.3), (4.0, 0.3)], pauses=[3.0, 0.5])
    sizes = []
    original = mastering.WavWriter.write
    monkeypatch.setattr(mastering.WavWriter, "write", lambda self, pcm: sizes.append(len(pcm)) or original(self, pcm))
    export(project)
    assert max(sizes) <= 2 * mastering.CHUNK_SAMPLES and sum(sizes) == 2 * round(12.0 * RATE)


def test_normalized_audio_is_reused_from_the_take(user):
    project = make_project(user, [(1.0, 0.3)])
    take = project.ordered_lines()[0].chosen_take
    assert mastering.ensure_normalized(take, -16.0) is True
    assert mastering.ensure_normalized(take, -16.0) is False
    with take.normalized.open("rb") as pcm:
        assert len(pcm.read()) == 2 * RATE
    with take.audio.open("rb") as audio:  # the take's own WAV stays as spoken
        assert audio.read()[:4] == b"RIFF"


def test_staff_see_projects_takes_and_exports_in_the_admin(admin_client, user):
    project = make_project(user, [(1.0, 0.3)])
    result = export(project)
    take = project.ordered_lines()[0].chosen_take
    assert "Export" in admin_client.get("/admin/studio/project/", {"q": "Export"}).text
    assert admin_client.get(f"/admin/studio/project/{project.pk}/change/").status_code == 200
    assert "Line 0" in admin_client.get("/admin/studio/take/", {"q": "Line 0"}).text
    assert admin_client.get(f"/admin/studio/take/{take.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/studio/export/{result.pk}/change/").status_code == 200


def test_the_project_page_costs_the_same_queries_for_3_lines_or_30(client, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(user)
    counts = []
    for lines in (3, 30):
        project = make_project(user, [(0.5, 0.3)] * lines)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(project.get_absolute_url()).status_code == 200
        counts.append(len(queries))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/studio/{project.uuid}/status/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_editing_a_line_with_bad_input_says_why_and_changes_nothing(client, user):
    project = make_project(user, [(0.5, 0.3)])
    line = project.ordered_lines()[0]
    client.force_login(user)
    prefix = f"line{line.pk}"
    for data, message in [
        ({"text": "Wait [pause 12s] now.", "pause_after": "0.5"}, "A pause of 12 s is too long: at most 10 s."),
        ({"text": "Fine.", "pause_after": "11"}, "A pause must be between 0 and 10 seconds."),
        ({"text": "Fine.", "pause_after": "0.5", "speed": "3"}, "Speed must be between 0.5 and 2."),
        ({"text": "Fine.", "pause_after": "0.5", "voice": "nobody"}, "You may not use this voice"),
    ]:
        response = client.post(
            f"/studio/{project.uuid}/lines/{line.pk}/edit/", {f"{prefix}-{k}": v for k, v in data.items()}
        )
        assert response.status_code == 400 and message in response.text
    line.refresh_from_db()
    assert line.text == "Line 0 [pause 0.1s] words." and line.revision == 1 and line.pause_after == 0.5


def test_history_deletes_the_owners_takes_and_speech_with_their_files(client, user, other_user):
    from clones.models import Utterance

    project = make_project(user, [(0.5, 0.3)])
    take = project.ordered_lines()[0].chosen_take
    utterance = Utterance.objects.create(owner=user, system_voice="tongtong", text="Old speech.", status="ready")
    utterance.audio.save("u.wav", ContentFile(take_wav(0.5, 0.3)))
    files = [take.audio.path, utterance.audio.path]
    client.force_login(other_user)
    assert client.post(f"/studio/takes/{take.uuid}/delete/").status_code == 404
    assert client.post(f"/studio/history/utterances/{utterance.uuid}/delete/").status_code == 404
    assert "Old speech." not in client.get("/studio/history/").text
    client.force_login(user)
    page = client.get("/studio/history/").text
    assert "Old speech." in page and "Line 0 [pause 0.1s] words." in page and page.count("<audio") == 2
    download = client.get(utterance.get_audio_url() + "?download=1")
    assert download["Content-Disposition"].startswith("attachment;")
    client.post(f"/studio/takes/{take.uuid}/delete/", {"next": "history"})
    client.post(f"/studio/history/utterances/{utterance.uuid}/delete/")
    assert not Take.objects.filter(pk=take.pk).exists() and not Utterance.objects.exists()
    assert not any(os.path.exists(path) for path in files)


def test_deleting_a_project_deletes_its_takes_and_exports_files(client, user):
    project = make_project(user, [(0.5, 0.3), (0.5, 0.3)])
    result = export(project)
    files = [result.audio.path] + [line.chosen_take.audio.path for line in project.ordered_lines()]
    client.force_login(user)
    assert client.post(f"/studio/{project.uuid}/delete/").status_code == 302
    assert not Project.objects.exists() and not Take.objects.exists()
    assert not any(os.path.exists(path) for path in files)


def test_provider_wavs_are_read_as_they_are_and_other_audio_through_pyav():
    from tests.samples import wav_bytes

    native = take_wav(1.0, 0.3)
    assert np.array_equal(mastering.decode(native), decode_mono(native, RATE))
    other = wav_bytes(1.0, rate=16000)  # resampled to 24 kHz by PyAV
    assert len(mastering.decode(other)) == pytest.approx(RATE, abs=50)


def test_a_long_export_keeps_telling_the_sweep_it_is_alive(user, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from studio import tasks

    project = make_project(user, [(0.5, 0.3)] * 3)
    row = Export.objects.create(project=project)
    Export.objects.filter(pk=row.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    monkeypatch.setattr(tasks.Heartbeat, "HEARTBEAT_SECONDS", -1)  # every line
    beats = []
    original = tasks.Heartbeat.__call__

    def beat(heartbeat):
        original(heartbeat)
        beats.append(Export.objects.get(pk=row.pk).updated_at)  # what the sweep sees meanwhile

    monkeypatch.setattr(tasks.Heartbeat, "__call__", beat)
    run_export(row.pk)
    row.refresh_from_db()
    assert row.status == "ready" and len(beats) == 6  # after normalizing and after joining each line
    assert all(timezone.now() - seen < timedelta(minutes=1) for seen in beats)
    assert not Export.objects.filter(pk__in=[row.pk]).filter(updated_at__lt=timezone.now() - timedelta(minutes=5))


def test_history_pages_takes_and_speech_together_newest_first(client, user):
    from datetime import timedelta

    from django.utils import timezone

    from clones.models import Utterance
    from studio.views import HISTORY_PAGE_SIZE

    project = make_project(user, [(0.2, 0.3)] * 20)
    now = timezone.now()
    for index, take in enumerate(Take.objects.order_by("pk")):  # takes at even minutes, speech at odd ones
        Take.objects.filter(pk=take.pk).update(created_at=now - timedelta(minutes=2 * index))
        speech = Utterance.objects.create(owner=user, system_voice="tongtong", text=f"Speech {index}.")
        Utterance.objects.filter(pk=speech.pk).update(created_at=now - timedelta(minutes=2 * index + 1))
    client.force_login(user)
    first = client.get("/studio/history/").context["entries"]
    second = client.get("/studio/history/", {"page": 2}).context["entries"]
    assert len(first) == HISTORY_PAGE_SIZE and len(second) == 40 - HISTORY_PAGE_SIZE
    kinds = [kind for kind, _item in first + second]
    assert kinds == ["take", "utterance"] * 20
    times = [item.created_at for _kind, item in first + second]
    assert times == sorted(times, reverse=True)
    found = client.get("/studio/history/", {"q": "Speech 1"}).context["entries"]
    assert {item.text for _kind, item in found} == {"Speech 1.", *{f"Speech {n}." for n in range(10, 20)}}
    assert project.title  # the takes link back to their project


def test_the_status_answer_carries_only_lines_whose_takes_moved_since_the_last_one(client, user):
    from datetime import timedelta

    from django.utils import timezone

    project = make_project(user, [(0.2, 0.3)] * 5)
    Take.objects.update(updated_at=timezone.now() - timedelta(minutes=5))
    client.force_login(user)
    url = f"/studio/{project.uuid}/status/"
    first = client.get(url).json()
    assert len(first["lines"]) == 5 and first["finished"] is True
    assert client.get(url, {"since": first["now"]}).json()["lines"] == []
    line = project.ordered_lines()[3]
    line.chosen_take.status = "speaking"
    line.chosen_take.save()  # a take moves (auto_now)
    moved = client.get(url, {"since": first["now"]}).json()
    assert [entry["id"] for entry in moved["lines"]] == [line.pk]
    assert moved["lines"][0]["state"] == "speaking" and moved["finished"] is False
