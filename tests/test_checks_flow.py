"""Every take heard back: a real worker makes takes through the sandbox over real HTTP, hears each one with
/audio/transcriptions, compares it with the line's text, and makes it again when it differs."""

import pytest
from django.urls import reverse

from accounts.models import Usage
from checks.models import PronunciationRule
from studio.models import Line, Project, Take
from tests.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

ENGLISH = "Every take is heard back and checked before anyone listens."
CHINESE = "今天天气很好，我们去公园散步吧。"
LONG = [
    "The river ran high that spring, and the ferry waited on the far bank for three days.",
    "Nobody in the village remembered a flood like it, not even the miller's grandmother.",
    "When the water finally fell, the fields were covered in a fine grey silt that smelled of the sea.",
    "She counted the boats twice before she was sure that one of them was missing.",
    "By morning the news had reached the town, and the square was full of people asking questions.",
    "The mayor stood on the steps of the hall and promised that the bridge would be rebuilt by winter.",
]


def project_with(client, user, *texts, **fields):
    client.force_login(user)
    data = {"title": "Checked", "voice": "tongtong", "speed": 1.0, "volume": 1.0, "format": "auto"}
    response = client.post(reverse("studio:create"), {**data, "script": "\n\n".join(texts), **fields})
    assert response.status_code == 302, response.content.decode()
    return Project.objects.get(title="Checked")


def settled(project, count=None):
    """Every take made and checked (and, with `count`, that many takes)."""

    def done():
        takes = Take.objects.filter(line__project=project)
        if count is not None and takes.count() != count:
            return False
        busy = takes.filter(status__in=Take.PENDING).exists() or takes.filter(check_status__in=Take.CHECK_PENDING)
        return takes.exists() and not busy

    try:
        wait_until(done, 120)
    except AssertionError:
        found = Take.objects.filter(line__project=project).values_list("status", "check_status", "error_message")
        raise AssertionError(f"takes not settled: {list(found)}") from None
    return list(Take.objects.filter(line__project=project).order_by("pk"))


def generate(client, project):
    response = client.post(reverse("studio:generate_all", args=[project.uuid]))
    assert response.status_code == 302


def test_a_take_said_right_is_heard_back_and_checked(client, user, sandbox, celery_worker):
    project = project_with(client, user, ENGLISH, CHINESE)
    generate(client, project)
    takes = settled(project, 2)
    assert [take.check_status for take in takes] == ["passed", "passed"]
    assert [take.error_rate for take in takes] == [0.0, 0.0]
    assert takes[0].transcript == ENGLISH and takes[1].transcript == CHINESE
    assert takes[0].wer == 0.0 and takes[0].cer is None and takes[1].cer == 0.0 and takes[1].wer is None
    assert all(take.check_calls == 1 and take.spans == [] for take in takes)
    assert len(sandbox.calls("audio.transcriptions")) == 2
    # Each check is charged before it is made: whole seconds of the take's audio.
    charged = Usage.objects.filter(user=user, kind=Usage.Kind.CHECK_SECONDS).order_by("amount")
    assert sorted(u.amount for u in charged) == sorted(max(1, -(-int(t.duration * 1000) // 1000)) for t in takes)
    assert all(line.check_state()[0] == "checked" for line in project.ordered_lines())


def test_a_mis_spoken_take_differs_and_is_made_again_until_it_is_right(client, user, sandbox, celery_worker):
    project = project_with(client, user, ENGLISH)
    sandbox.set_faults([{"route": "audio.speech", "action": "mispeak", "mispeak": "drop", "times": 1, "seed": 3}])
    generate(client, project)
    first, second = settled(project, 2)
    assert first.check_status == "differs" and first.auto_retry == 0
    assert first.error_rate == pytest.approx(1 / 10)
    assert len(first.transcript.split()) == 9
    [span] = first.spans
    assert span["op"] == "delete" and span["heard"] == "" and span["expected"] in ENGLISH.lower()
    assert second.check_status == "passed" and second.auto_retry == 1 and second.transcript == ENGLISH
    line = Line.objects.get(pk=first.line_id)
    assert line.chosen_take == second and not line.chosen_by_owner
    assert line.check_state()[0] == "checked"
    assert len(sandbox.calls("audio.speech")) == 2 and len(sandbox.calls("audio.transcriptions")) == 2


def test_retries_stop_after_the_setting_and_the_closest_take_is_chosen(client, user, sandbox, celery_worker):
    project = project_with(client, user, ENGLISH)
    # Every take mis-spoken: the first drops a word, the second says one twice, the third drops two words.
    sandbox.set_faults(
        [
            {"route": "audio.speech", "action": "mispeak", "mispeak": "drop", "times": 1, "seed": 1},
            {"route": "audio.speech", "action": "mispeak", "mispeak": "swap", "times": 1, "seed": 1},
            {"route": "audio.speech", "action": "mispeak", "mispeak": "drop", "times": 1, "seed": 2},
        ]
    )
    generate(client, project)
    takes = settled(project, 3)  # the take and CHECK_MAX_RETRIES (2) more, no fourth
    assert [take.auto_retry for take in takes] == [0, 1, 2]
    assert [take.check_status for take in takes] == ["differs"] * 3
    assert takes[0].error_rate == pytest.approx(0.1) and takes[1].error_rate == pytest.approx(0.2)
    line = Line.objects.get(pk=takes[0].line_id)
    # The lowest error rate wins; on a tie, the newest.
    best = min(takes, key=lambda t: (t.error_rate, -t.pk))
    assert line.chosen_take == best and line.check_state()[0] == "differs"
    assert len(sandbox.calls("audio.speech")) == 3


def test_the_owner_accepts_a_take_that_differs(client, user, sandbox, celery_worker, settings):
    project = project_with(client, user, ENGLISH)
    sandbox.set_faults([{"route": "audio.speech", "action": "mispeak", "times": None}])
    generate(client, project)
    takes = settled(project, 3)
    response = client.post(reverse("studio:accept_take", args=[takes[0].uuid]))
    assert response.status_code == 302
    line = Line.objects.get(pk=takes[0].line_id)
    assert line.chosen_take == takes[0] and line.chosen_by_owner
    assert Take.objects.get(pk=takes[0].pk).check_status == "accepted"
    assert line.check_state() == ("checked", "Accepted")


def test_checking_turned_off_makes_no_recognizer_call(client, user, sandbox, celery_worker):
    project = project_with(client, user, ENGLISH)
    Project.objects.filter(pk=project.pk).update(check_speech=False)
    sandbox.set_faults([{"route": "audio.speech", "action": "mispeak", "times": 1}])
    generate(client, project)
    [take] = settled(project, 1)
    assert take.check_status == "" and take.transcript == ""
    assert sandbox.calls("audio.transcriptions") == []
    assert Line.objects.get(pk=take.line_id).check_state()[0] == "unchecked"


def test_a_take_longer_than_the_recognizer_takes_is_heard_in_pieces(client, user, sandbox, celery_worker):
    # About 40 s of speech, over the recognizer's 30 s (sentences that differ, as a repeated one would
    # let the sandbox's envelope matching place a piece one sentence early or late).
    long_line = " ".join(LONG)
    project = project_with(client, user, ENGLISH)
    Line.objects.filter(project=project).update(text=long_line)  # the script reader makes shorter lines
    generate(client, project)
    [take] = settled(project, 1)
    assert take.duration > 30
    assert take.check_status == "passed", (take.transcript, take.spans)
    calls = sandbox.calls("audio.transcriptions")
    assert len(calls) == take.check_calls == 2 and all(call["status"] == 200 for call in calls)


def test_a_respelling_rule_is_sent_and_the_take_still_checks(client, user, sandbox, celery_worker):
    PronunciationRule.objects.create(owner=user, phrase="SQL", replacement="sequel", whole_word=True)
    project = project_with(client, user, "We store it in SQL tables, not in SQLite.")
    generate(client, project)
    [take] = settled(project, 1)
    assert take.sent_text == "We store it in sequel tables, not in SQLite."
    page = client.get(project.get_absolute_url()).content.decode()
    assert "Sent as: We store it in sequel tables, not in SQLite." in page  # the line shows what was sent
    assert take.check_status == "passed" and take.transcript == take.sent_text


def test_a_check_past_the_quota_makes_no_call_and_says_why(client, user, sandbox, celery_worker):
    from django.conf import settings

    Usage.objects.create(user=user, kind=Usage.Kind.CHECK_SECONDS, amount=settings.QUOTA_CHECK_SECONDS_PER_DAY,
                         submission=False)  # fmt: skip
    project = project_with(client, user, ENGLISH)
    generate(client, project)
    [take] = settled(project, 1)
    assert take.check_status == "failed" and take.check_calls == 0
    assert "seconds of checked speech in 24 hours" in take.check_error
    assert sandbox.calls("audio.transcriptions") == []
    line = Line.objects.get(pk=take.line_id)
    assert line.chosen_take == take and line.check_state()[0] == "unchecked"


def test_a_check_left_by_a_dead_worker_is_swept_and_made(client, user, sandbox, celery_worker, settings):
    from datetime import timedelta

    from django.utils import timezone

    from checks.tasks import sweep_stuck_checks

    project = project_with(client, user, ENGLISH)
    Project.objects.filter(pk=project.pk).update(check_speech=False)
    generate(client, project)
    [take] = settled(project, 1)
    # As if a worker died holding the check: its lease ran out long ago.
    long_ago = timezone.now() - timedelta(seconds=settings.STUCK_AFTER_SECONDS + 5)
    Take.objects.filter(pk=take.pk).update(check_status="checking", lease_expires_at=long_ago, updated_at=long_ago)
    assert sweep_stuck_checks() == 1
    [take] = settled(project, 1)
    assert take.check_status == "passed" and take.check_attempts == 1
    assert len(sandbox.calls("audio.transcriptions")) == 1


def test_the_owner_turns_checking_off_in_the_projects_settings(client, user):
    project = project_with(client, user, ENGLISH)
    assert project.check_speech
    settings_form = {"title": "Checked", "voice": "tongtong", "speed": 1, "volume": 1, "loudness_target": -16}
    response = client.post(reverse("studio:update", args=[project.uuid]), settings_form)
    assert response.status_code == 302
    assert not Project.objects.get(pk=project.pk).check_speech
    client.post(reverse("studio:update", args=[project.uuid]), {**settings_form, "check_speech": "on"})
    assert Project.objects.get(pk=project.pk).check_speech
    assert "Check every take" in client.get(project.get_absolute_url()).content.decode()


def test_one_off_speech_is_heard_back_when_asked_for(client, user, sandbox, celery_worker):
    from clones.models import Utterance

    client.force_login(user)
    sandbox.set_faults([{"route": "audio.speech", "action": "mispeak", "mispeak": "drop", "times": 1, "seed": 3}])
    speak = {"voice": "tongtong", "speed": 1, "volume": 1}
    client.post(reverse("clones:speak"), {**speak, "text": ENGLISH, "check_requested": "on"})
    wait_until(lambda: Utterance.objects.filter(status="ready").exists(), 60)  # the mis-spoken one
    client.post(reverse("clones:speak"), {**speak, "text": CHINESE, "check_requested": "on"})
    client.post(reverse("clones:speak"), {**speak, "text": "Not checked at all."})

    def checked():
        found = Utterance.objects.filter(check_requested=True).exclude(
            check_status__in=["", "pending", "checking", "redoing"]
        )
        return found.count() == 2 and Utterance.objects.filter(status="ready").count() == 3

    wait_until(checked, 60)
    first, second, third = Utterance.objects.order_by("pk")
    # The mis-spoken one differed, was spoken again on its own, and the new attempt is kept.
    assert first.check_status == "passed" and first.error_rate == 0.0
    assert [(a.check_status, a.kept) for a in first.speech_attempts.all()] == [("differs", False), ("passed", True)]
    assert first.speech_attempts.first().error_rate == pytest.approx(0.1)
    assert second.check_status == "passed" and second.transcript == CHINESE and second.error_rate == 0.0
    assert third.check_status == "" and not third.check_requested
    assert len(sandbox.calls("audio.transcriptions")) == 3  # one each, one for the new attempt, none for the third
    assert len(sandbox.calls("audio.speech")) == 4
    assert Usage.objects.filter(user=user, kind=Usage.Kind.CHECK_SECONDS).count() == 3
    page = client.get(reverse("clones:speak")).content.decode()
    assert page.count('class="badge check-badge check-checked"') == 2 and "check-differs" not in page


def test_the_page_follows_a_line_while_its_take_is_being_heard_back(client, user):
    project = project_with(client, user, ENGLISH)
    line = project.ordered_lines()[0]
    take = line.new_take()
    Take.objects.filter(pk=take.pk).update(status="ready", check_status="checking")
    Line.objects.filter(pk=line.pk).update(chosen_take=take)
    status = client.get(reverse("studio:project_status", args=[project.uuid])).json()
    assert status["finished"] is False and status["lines"][0]["check"] == "checking"
    Take.objects.filter(pk=take.pk).update(check_status="passed")
    status = client.get(reverse("studio:project_status", args=[project.uuid])).json()
    assert status["finished"] is True and status["lines"][0]["check"] == "checked"
