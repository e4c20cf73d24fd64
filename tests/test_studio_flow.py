"""The studio end to end: a script becomes lines, a real worker makes takes through the sandbox over real
HTTP, lines are edited, regenerated, locked and chosen, and the export joins the chosen takes with captions."""

import html
import io
import wave

import numpy as np
import pytest
from django.urls import reverse

from accounts.models import Limits, Usage
from clones import bigmodel
from clones.models import Clone, Utterance
from studio.models import Export, Line, Project, Take
from studio.tasks import sweep_stuck_takes
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

DIALOGUE = """Alice: Good morning. Did you sleep well? [pause 0.8s] I did not.
Bob: Not at all.

旁白：天色已晚。他们走进了屋子。
"""


def create(client, text=DIALOGUE, **fields):
    data = {"title": "Morning", "voice": "tongtong", "speed": 1.0, "volume": 1.0, "format": "auto", "script": text}
    return client.post(reverse("studio:create"), {**data, **fields})


def mapped(**extra):
    return {"speaker:Alice": "xiaochen", "speaker:Bob": "", "speaker:旁白": "chuichui", **extra}


def wait_for_takes(project, count):
    def done():
        takes = Take.objects.filter(line__project=project)
        return takes.count() >= count and not takes.filter(status__in=Take.PENDING).exists()

    wait_until(done, 120)
    return Take.objects.filter(line__project=project)


def wait_for_export(export):
    return wait_until(lambda: Export.objects.filter(pk=export.pk, status__in=["ready", "failed"]).first(), 120)


def longest_silence(data):
    """Seconds of the longest run of exact digital silence in a WAV."""
    with wave.open(io.BytesIO(data)) as audio:
        samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    longest = run = 0
    for silent in samples == 0:
        run = run + 1 if silent else 0
        longest = max(longest, run)
    return longest / 24000


def wav_info(data):
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getframerate(), audio.getnchannels(), audio.getnframes() / audio.getframerate()


def test_unknown_speakers_are_listed_and_nothing_is_saved_until_mapped(client, user):
    client.force_login(user)
    response = create(client)
    assert response.status_code == 400
    assert "Choose a voice for each speaker the script names: Alice, Bob, 旁白." in response.text
    assert 'name="speaker:Alice"' in response.text and 'name="speaker:旁白"' in response.text
    assert Project.objects.count() == 0 and Line.objects.count() == 0

    response = create(client, **mapped())
    project = Project.objects.get()
    assert response.status_code == 302 and response["Location"] == project.get_absolute_url()
    lines = list(project.ordered_lines())
    assert [(line.speaker, line.voice_key) for line in lines] == [
        ("Alice", "xiaochen"),
        ("Bob", ""),
        ("旁白", "chuichui"),
    ]
    assert lines[0].text == "Good morning. Did you sleep well? [pause 0.8s] I did not."
    assert lines[1].voice_label == "Tongtong (default)"


def test_a_name_that_is_not_a_speaker_stays_in_the_text(client, user):
    client.force_login(user)
    create(client, "Note: the river was high that year.", **{"speaker:Note": "-"})
    assert Line.objects.get().text == "Note: the river was high that year."


@pytest.mark.parametrize(
    "text, message",
    [
        ("   ", "The script is empty."),
        ("Hello [pause 12s] there.", "Line 1: A pause of 12 s is too long: at most 10 s."),
        ("1\n00:00:01,000 --> 00:00:02,000\n" + "y" * 1025 + " [pause 1s]", "Line 2: The line has 1025 characters"),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nHi.\n\n2\n00:00:03 --> 00:00:04\nThere.",
            "Line 6: “00:00:03 --> 00:00:04”",
        ),
    ],
)
def test_bad_scripts_are_refused_with_the_line_and_why(client, user, text, message):
    client.force_login(user)
    response = create(client, text)
    assert response.status_code == 400 and message in html.unescape(response.text)
    assert Project.objects.count() == 0 and Line.objects.count() == 0


def test_a_voice_the_user_may_not_use_is_refused(client, user, other_user, make_clone):
    private = make_clone(owner=other_user, voice_id="voice-x")
    client.force_login(user)
    response = create(client, "Hello there.", voice=str(private.uuid))
    assert response.status_code == 400 and "You may not use this voice" in response.text
    assert Project.objects.count() == 0


def test_other_people_cannot_reach_a_project_or_its_takes(client, user, other_user):
    client.force_login(user)
    create(client, "Hello there.")
    project = Project.objects.get()
    line = project.lines.get()
    take = Take.objects.create(line=line, text=line.text, voice="tongtong", voice_label="T", revision=1)
    client.force_login(other_user)
    for url in [
        project.get_absolute_url(),
        reverse("studio:project_status", args=[project.uuid]),
        reverse("studio:take_audio", args=[take.uuid]),
    ]:
        assert client.get(url).status_code == 404
    for url in [
        reverse("studio:generate_all", args=[project.uuid]),
        reverse("studio:regenerate_line", args=[project.uuid, line.pk]),
        reverse("studio:choose_take", args=[take.uuid]),
        reverse("studio:delete_take", args=[take.uuid]),
    ]:
        assert client.post(url).status_code == 404
    assert Take.objects.count() == 1


@pytest.mark.worker
def test_generate_all_then_edit_regenerate_choose_and_export(client, user, sandbox, celery_worker):
    client.force_login(user)
    create(client, **mapped())
    project = Project.objects.get()
    assert client.post(reverse("studio:generate_all", args=[project.uuid])).status_code == 302
    takes = wait_for_takes(project, 3)
    assert [t.status for t in takes] == ["ready"] * 3, [t.error_message for t in takes]
    # The first line's pause splits it into two calls: the pause is silence, never spoken.
    spoken = ["Good morning. Did you sleep well?", "I did not.", "Not at all.", "天色已晚。他们走进了屋子。"]
    assert len(sandbox.calls("audio.speech")) == 4
    assert [(t.provider_calls, t.voice) for t in takes] == [(2, "xiaochen"), (1, "tongtong"), (1, "chuichui")]
    assert longest_silence(takes[0].audio.read()) >= 0.8
    # Charged per provider call, by its characters.
    assert sorted(Usage.objects.filter(kind=Usage.Kind.SPEECH_CHARS).values_list("amount", flat=True)) == sorted(
        len(s) for s in spoken
    )
    lines = list(project.ordered_lines())
    assert all(line.has_fresh_choice for line in lines)

    # Generate all again: nothing to do, nothing called.
    client.post(reverse("studio:generate_all", args=[project.uuid]))
    assert Take.objects.count() == 3

    # Edit the second line: its take is stale, and generate all redoes that line only.
    second = lines[1]
    edit = {f"line{second.pk}-text": "Not at all, I'm afraid.", f"line{second.pk}-voice": "",
            f"line{second.pk}-speed": "", f"line{second.pk}-pause_after": "1.0"}  # fmt: skip
    assert client.post(reverse("studio:edit_line", args=[project.uuid, second.pk]), edit).status_code == 302
    second.refresh_from_db()
    first_take = second.chosen_take
    assert first_take.is_stale and not second.has_fresh_choice and second.pause_after == 1.0
    # A locked line is left alone by generate all.
    client.post(reverse("studio:lock_line", args=[project.uuid, lines[2].pk]), {"locked": "1"})
    Line.objects.filter(pk=lines[2].pk).update(revision=5)  # as if it had changed too
    client.post(reverse("studio:generate_all", args=[project.uuid]))
    takes = wait_for_takes(project, 4)
    assert takes.count() == 4
    second.refresh_from_db()
    assert second.chosen_take.text == "Not at all, I'm afraid." and second.chosen_take != first_take
    Line.objects.filter(pk=lines[2].pk).update(revision=1, locked=False)

    # Regenerate the first line: a new take, chosen; the owner chooses the older one again.
    first = lines[0]
    old = first.chosen_take
    client.post(reverse("studio:regenerate_line", args=[project.uuid, first.pk]))
    wait_for_takes(project, 5)
    first.refresh_from_db()
    assert first.chosen_take != old and first.takes.count() == 2
    assert client.post(reverse("studio:choose_take", args=[old.uuid])).status_code == 302
    first.refresh_from_db()
    assert first.chosen_take == old

    # The page shows every take, the chosen one marked.
    page = client.get(project.get_absolute_url()).text
    assert page.count("data-take=") == 5 and page.count("chosen-mark") == 3 and "stale-mark" in page

    # Export: the chosen takes in order, each at the project's loudness, with the pauses and captions.
    assert client.post(reverse("studio:export", args=[project.uuid]), {"format": "wav"}).status_code == 302
    export = wait_for_export(Export.objects.get())
    assert export.status == "ready", export.error_message
    assert export.decoded_takes == 0  # every take was normalized when it was made
    rate, channels, seconds = wav_info(export.audio.read())
    chosen = [line.chosen_take for line in project.ordered_lines()]
    expected = sum(t.duration for t in chosen) + lines[0].pause_after + 1.0
    assert (rate, channels) == (24000, 1) and seconds == pytest.approx(expected, abs=0.01)
    (a, b, c) = export.cues
    assert a[0] == 0 and a[1] == pytest.approx(chosen[0].duration, abs=0.002)
    assert b[0] == pytest.approx(a[1] + 0.5, abs=0.002) and c[0] == pytest.approx(b[1] + 1.0, abs=0.002)
    assert a[2] == "Good morning. Did you sleep well? I did not."  # the pause markup is not a caption
    vtt = client.get(reverse("studio:export_captions", args=[export.uuid, "vtt"]))
    assert vtt["Content-Type"] == "text/vtt; charset=utf-8"
    assert vtt.text.startswith("WEBVTT\n\n00:00:00.000 --> ") and "天色已晚。他们走进了屋子。" in vtt.text
    srt = client.get(reverse("studio:export_captions", args=[export.uuid, "srt"])).text
    assert srt.startswith("1\n00:00:00,000 --> ") and "\n3\n" in srt

    # History: every take and the one-off speech too, searchable by text.
    Utterance.objects.create(owner=user, system_voice="tongtong", text="An old one-off speech.")
    history = client.get(reverse("studio:history"), {"q": "afraid"}).text
    assert "Not at all, I&#x27;m afraid." in history and "old one-off" not in history
    assert "An old one-off speech." in client.get(reverse("studio:history")).text


@pytest.mark.worker
def test_quota_is_charged_before_each_call_and_a_refusal_makes_no_call(client, user, sandbox, celery_worker):
    client.force_login(user)
    Limits.objects.create(user=user, speech_chars_per_day=15)
    create(client, "Short line.\n\nThis second line is too long for what is left.")
    project = Project.objects.get()
    client.post(reverse("studio:generate_all", args=[project.uuid]))
    takes = {t.text: t for t in wait_for_takes(project, 2)}
    assert takes["Short line."].status == "ready"
    refused = takes["This second line is too long for what is left."]
    assert refused.status == "failed" and "limit of 15 characters" in refused.error_message
    assert len(sandbox.calls("audio.speech")) == 1 and refused.provider_calls == 0


@pytest.mark.worker
def test_transient_provider_errors_are_retried_and_the_take_lands(client, user, sandbox, celery_worker):
    client.force_login(user)
    create(client, "Hello there.")
    project = Project.objects.get()
    sandbox.set_faults([{"route": "audio.speech", "action": "error", "status": 503, "code": "1234", "times": 2}])
    client.post(reverse("studio:generate_all", args=[project.uuid]))
    (take,) = wait_for_takes(project, 1)
    assert take.status == "ready" and take.attempts == 3
    assert len(sandbox.calls("audio.speech")) == 3


@pytest.mark.worker
def test_a_take_lost_with_its_worker_is_swept_and_finished(own_workers, client, user, sandbox, settings):
    from tests.conftest import start_worker, stop_worker

    # A worker of its own: in whole-suite runs the shared one could still be busy with what earlier
    # tests left, and the wait below timed out on its first try in two runs out of two.
    worker = start_worker()
    client.force_login(user)
    create(client, "Hello there.")
    line = Line.objects.get()
    # As a worker that died mid-take leaves it: speaking, its lease run out, no progress for long.
    take = Take.objects.create(line=line, text=line.text, voice="tongtong", voice_label="T", revision=1,
                               status="speaking", attempts=1)  # fmt: skip
    settings.STUCK_AFTER_SECONDS = 0
    assert sweep_stuck_takes()["takes"] == 1
    try:
        take = wait_until(lambda: Take.objects.filter(pk=take.pk, status="ready").first(), 60)
    finally:
        stop_worker(worker)
    assert take.attempts == 2 and line.__class__.objects.get().chosen_take == take


def test_a_clone_voice_the_owner_can_no_longer_use_fails_the_take_without_a_call(user, sandbox, make_clone):
    from studio import takes

    clone = make_clone(voice_id="voice-1")
    project = Project.objects.create(owner=user, title="T", clone=clone)
    line = Line.objects.create(project=project, position=0, text="Hello.")
    take = Take.objects.create(line=line, text="Hello.", voice="voice-1", voice_label="A voice", revision=1)
    Clone.objects.filter(pk=clone.pk).update(status=Clone.Status.FAILED)
    take = Take.objects.select_related("line__project__clone", "line__clone").get(pk=take.pk)
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as api, pytest.raises(takes.VoiceUnavailable):
        takes.speak(take, api)
    assert sandbox.calls("audio.speech") == []


def test_per_call_charges_count_toward_the_daily_quota_but_not_as_submissions(user, settings):
    from django.db import transaction

    from accounts.models import QuotaExceeded, charge

    settings.RATE_LIMIT_PER_MINUTE, settings.QUOTA_SPEECH_CHARS_PER_DAY = 3, 100
    with transaction.atomic():
        for _ in range(10):  # ten lines of a "generate all", each charged before its call
            charge(user, Usage.Kind.SPEECH_CHARS, 5, per_minute=False)
        for _ in range(3):  # the person can still submit speech of their own
            charge(user, Usage.Kind.SPEECH_CHARS, 5)
    with transaction.atomic(), pytest.raises(QuotaExceeded) as refused:
        charge(user, Usage.Kind.SPEECH_CHARS, 5)
    assert refused.value.code == "rate_limited"
    with transaction.atomic(), pytest.raises(QuotaExceeded) as refused:
        charge(user, Usage.Kind.SPEECH_CHARS, 40, per_minute=False)  # 65 used + 40 > 100
    assert refused.value.code == "quota_exceeded"


def test_generate_all_survives_a_worker_killed_mid_take(own_workers, client, user, sandbox, settings):
    from django.utils import timezone

    from tests.conftest import start_worker, stop_worker

    client.force_login(user)
    create(client, "The first line.\n\nThe second line.\n\nThe third line.")
    project = Project.objects.get()
    # Slow calls: the worker dies with takes in the middle of their calls.
    sandbox.set_faults([{"route": "audio.speech", "action": "delay", "latency": 30, "times": None}])
    worker = start_worker({"CLONE_LEASE_SECONDS": "2"})
    try:
        client.post(reverse("studio:generate_all", args=[project.uuid]))
        wait_until(lambda: len(sandbox.calls("audio.speech")) >= 2, timeout=30)
        worker.kill()  # SIGKILL: no cleanup, no acknowledgement
        worker.wait()
    finally:
        stop_worker(worker)
    assert Take.objects.filter(status="speaking").exists()

    sandbox.clear_faults()
    settings.STUCK_AFTER_SECONDS = 0
    restarted = start_worker()
    try:
        wait_until(lambda: not Take.objects.filter(lease_expires_at__gt=timezone.now()).exists(), 10)
        assert sweep_stuck_takes()["takes"] >= 1
        wait_until(lambda: not Take.objects.filter(status__in=Take.PENDING).exists(), timeout=90)
    finally:
        stop_worker(restarted)
    # Every line has its take, one each: nothing lost, nothing made twice.
    assert sorted(Take.objects.values_list("status", flat=True)) == ["ready"] * 3
    assert all(line.has_fresh_choice for line in project.ordered_lines())


def test_the_sweep_takes_a_take_whose_lease_lapsed_at_once_and_leaves_a_held_one(client, user, settings):
    """A dead worker's take is queued again as soon as its short lease runs out (not STUCK_AFTER_SECONDS
    later); a take whose worker keeps renewing its lease is never taken from it, however long it runs."""
    from datetime import timedelta

    from django.utils import timezone

    client.force_login(user)
    create(client, "Hello there.")
    line = Line.objects.get()
    now = timezone.now()
    fields = {"line": line, "text": line.text, "voice": "tongtong", "voice_label": "T", "revision": 1}
    dead = Take.objects.create(**fields, status="speaking", attempts=1, lease_expires_at=now - timedelta(seconds=1))
    alive = Take.objects.create(**fields, status="speaking", attempts=1, lease_expires_at=now + timedelta(seconds=30))
    Take.objects.filter(pk=alive.pk).update(updated_at=now - timedelta(hours=1))
    settings.STUCK_AFTER_SECONDS = 600
    assert list(Take.objects.stuck()) == [dead]
    assert sweep_stuck_takes()["takes"] == 1
    dead.refresh_from_db()
    assert (dead.status, dead.lease_expires_at) == ("queued", None)
    assert Take.objects.stuck().count() == 0  # not swept again before its new message had a chance to run


def test_a_new_project_starts_with_the_persons_newest_voice(client, user, other_user, make_clone):
    client.force_login(user)
    page = client.get(reverse("studio:create")).text
    assert "selected>" in page  # a system voice, for someone with no voice yet
    make_clone(name="Older voice", voice_id="v-1")
    newest = make_clone(name="Newest voice", voice_id="v-2")
    make_clone(owner=other_user, name="Someone else's", voice_id="v-3", visibility="public", allow_public_speech=True)
    page = client.get(reverse("studio:create")).text
    assert f'<option value="{newest.uuid}" selected>Newest voice</option>' in page
