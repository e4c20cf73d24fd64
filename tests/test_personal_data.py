"""People's data: one archive of everything we hold about a user, built by the worker; closing an
account deletes the provider voices first (through failures), then files and rows, keeping only
anonymous totals of the ledger. Staff can do both from the admin."""

import io
import json
import os
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, Usage, charge
from clones import bigmodel, pipeline
from clones.models import Clone, Utterance
from privacy.models import AccountClosure, AnonymousUsage, DataExport
from tests.conftest import wait_until
from tests.samples import wav_bytes
from webhooks.models import Endpoint

PASSWORD = "correct horse battery"


def speech_of(user, clone, text="Spoken words."):
    utterance = Utterance(owner=user, clone=clone, text=text, status=Utterance.Status.READY)
    utterance.audio.save("x.wav", ContentFile(wav_bytes(1)), save=False)
    utterance.save()
    return utterance


def provider_voice(sandbox, clone):
    """Run the real pipeline against the sandbox, so the provider holds a voice for this clone."""
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as api:
        pipeline.process(clone, api)
    clone.refresh_from_db()
    return clone


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_the_archive_holds_everything_about_the_user_and_nothing_secret(
    client, user, other_user, make_clone, celery_worker
):
    clone = make_clone(name="My voice")
    utterance = speech_of(user, clone)
    token, secret = ApiToken.issue(user, "laptop script")
    endpoint = Endpoint.objects.create(owner=user, url="https://example.com/hook")
    with transaction.atomic():
        charge(user, Usage.Kind.SPEECH_CHARS, 12)
    theirs = make_clone(owner=other_user, name="Not mine")

    client.force_login(user)
    client.post(reverse("privacy:export"))
    export = wait_until(lambda: DataExport.objects.filter(status="ready").first(), timeout=60)
    response = client.get(export.get_download_url())
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())

    account = json.loads(archive.read("account.json"))
    assert account["email"] == "ada@example.com" and account["username"] == "ada"
    (clone_out,) = json.loads(archive.read("clones.json"))
    assert clone_out["uuid"] == str(clone.uuid) and clone_out["name"] == "My voice"
    with clone.sample.open("rb") as sample:
        assert archive.read(clone_out["files"]["sample"]) == sample.read()
    assert clone_out["files"]["preview"] in names
    (utterance_out,) = json.loads(archive.read("utterances.json"))
    assert utterance_out["uuid"] == str(utterance.uuid) and utterance_out["file"] in names
    assert [t["name"] for t in json.loads(archive.read("api_tokens.json"))] == ["laptop script"]
    assert [u["amount"] for u in json.loads(archive.read("usage.json"))] == [12]
    assert [e["url"] for e in json.loads(archive.read("webhooks.json"))] == [endpoint.url]
    assert "sign_ins" in json.loads(archive.read("sign_ins.json"))

    everything = b"".join(archive.read(name) for name in names)
    for hidden in (secret, token.digest, endpoint.secret, clone.share_token, str(theirs.uuid), b"Not mine"):
        assert (hidden if isinstance(hidden, bytes) else hidden.encode()) not in everything


@pytest.mark.django_db
def test_only_the_owner_can_download_an_archive(client, user, other_user):
    export = DataExport.objects.create(user=user, status=DataExport.Status.READY)
    export.archive.save("x.zip", ContentFile(b"PK"), save=True)
    client.force_login(other_user)
    assert client.get(export.get_download_url()).status_code == 404


@pytest.mark.django_db
def test_a_wrong_password_closes_nothing(client, user):
    client.force_login(user)
    response = client.post(reverse("privacy:close"), {"password": "nope", "confirm": "on"})
    assert response.status_code == 400 and "This is not your password." in response.text
    user.refresh_from_db()
    assert user.is_active and not AccountClosure.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_closing_deletes_provider_voices_through_failures_then_files_and_rows(
    client, user, other_user, sandbox, make_clone, celery_worker
):
    clone = provider_voice(sandbox, make_clone(status=Clone.Status.QUEUED))
    kept = provider_voice(sandbox, make_clone(owner=other_user, status=Clone.Status.QUEUED))
    speech_of(user, kept, "My speech with someone else's public voice.")
    files = [clone.sample.path, clone.preview_audio.path, *(u.audio.path for u in Utterance.objects.all())]
    yesterday = timezone.now() - timedelta(days=1)
    Usage.objects.create(user=user, kind=Usage.Kind.CLONE, amount=1, created_at=yesterday)
    Usage.objects.create(user=user, kind=Usage.Kind.SPEECH_CHARS, amount=40, created_at=yesterday)
    Usage.objects.create(user=other_user, kind=Usage.Kind.CLONE, amount=1)
    ApiToken.issue(user, "script")
    assert len(sandbox.voices()) == 2

    sandbox.set_faults([{"route": "voice.delete", "action": "error", "status": 503, "times": 2}])
    client.force_login(user)
    response = client.post(reverse("privacy:close"), {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    assert client.get(reverse("privacy:index")).status_code == 302, "signed out at once"

    closure = wait_until(lambda: AccountClosure.objects.filter(finished_at__isnull=False).first(), timeout=90)
    assert closure.user is None and closure.clones_deleted == 1
    assert [v["voice"] for v in sandbox.voices()] == [kept.voice_id]
    assert [c["status"] for c in sandbox.calls("voice.delete")] == [503, 503, 200]
    assert not get_user_model().objects.filter(username="ada").exists()
    assert not any(os.path.exists(path) for path in files[:2])
    assert Clone.objects.get() == kept and not Utterance.objects.exists()
    assert not ApiToken.objects.exists() and list(Usage.objects.values_list("user__username", flat=True)) == ["bob"]
    totals = {(t.day, t.kind): t.amount for t in AnonymousUsage.objects.all()}
    assert totals == {(yesterday.date(), "clone"): 1, (yesterday.date(), "speech_chars"): 40}


@pytest.mark.django_db
def test_staff_close_an_account_and_start_an_export_from_the_admin(client, user, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    changelist = reverse("admin:auth_user_changelist")
    response = client.post(changelist, {"action": "export_data", "_selected_action": [user.pk]})
    assert response.status_code == 302 and DataExport.objects.get().user == user
    response = client.post(changelist, {"action": "close_accounts", "_selected_action": [user.pk, staff_user.pk]})
    assert response.status_code == 302
    user.refresh_from_db()
    staff_user.refresh_from_db()
    closure = AccountClosure.objects.get()
    assert closure.user == user and closure.by_staff and not user.is_active
    assert staff_user.is_active, "staff cannot close their own account by mistake"


# -- what later features hold about a person ------------------------------------------------------


def stored(field_or_path, content):
    field_or_path.save("x.wav", ContentFile(content), save=False)


def everything_later_features_hold(user, other_user, clone, theirs):
    """Rows and files of the studio, checks, lab, library, transcripts and webhooks about `user`,
    whose `clone` is theirs; `theirs` is other_user's. Returns {name: (row, stored file bytes or None)}."""
    from accounts.models import AccountEvent
    from checks.models import PronunciationRule
    from lab.models import ListeningRound, SamplePart, SimilarityScore
    from lab.models import Take as LabTake
    from lab.models import Voice as LabVoice
    from library.models import Mark, Showcase, VoiceStats
    from studio.models import Export
    from tests.test_studio_export import make_project
    from transcripts.models import Transcription
    from webhooks.models import Delivery

    part = SamplePart(clone=clone, position=0, name="kitchen.wav", report={"rating": "good"})
    part.audio.save("p.wav", ContentFile(b"RIFF-part-audio"), save=False)
    part.save()
    voice = LabVoice.objects.create(owner=user)
    LabTake.objects.create(voice=voice, clone=clone, number=1, is_main=True)
    SimilarityScore.objects.create(clone=clone, score=0.87, model="ecapa", seconds=1.2)
    heard = ListeningRound.objects.create(clone=clone, original_is="a", listener=other_user, answer="b", correct=False)
    mine_heard = ListeningRound.objects.create(clone=theirs, original_is="b", listener=user, answer="b", correct=True)
    VoiceStats.objects.create(clone=clone, likes=1, plays=3)
    clip = speech_of(user, clone, "A clip for the library.")
    Showcase.objects.create(clone=clone, utterance=clip)
    like = Mark.objects.create(user=user, clone=theirs, kind=Mark.Kind.LIKE)
    liked_by_other = Mark.objects.create(user=other_user, clone=clone, kind=Mark.Kind.SAVE)
    rule = PronunciationRule.objects.create(owner=user, clone=clone, phrase="GIF", replacement="jif")
    project = make_project(user, [(1.0, 0.3)])
    take = project.lines.get().chosen_take
    export = Export.objects.create(project=project, status=Export.Status.READY)
    export.audio.save(f"{export.uuid}.wav", ContentFile(b"RIFF-export-audio"), save=True)
    transcription = Transcription.objects.create(owner=user, text="what the sample says")
    transcription.sample.save("t.wav", ContentFile(b"RIFF-transcribed"), save=True)
    endpoint = Endpoint.objects.create(owner=user, url="https://example.com/hook")
    delivery = Delivery.objects.create(endpoint=endpoint, event="clone.ready", payload={"uuid": str(clone.uuid)})
    event = AccountEvent.record(AccountEvent.Kind.PASSWORD_RESET, "203.0.113.9", user.email)
    with take.audio.open("rb") as audio:
        take_bytes = audio.read()
    return {
        "sample part": (part, b"RIFF-part-audio"),
        "lab voice": (voice, None),
        "similarity": (clone.similarity, None),
        "A/B round on their voice": (heard, None),
        "stats": (clone.stats, None),
        "showcase": (clip.showcase, None),
        "like": (like, None),
        "saved by someone": (liked_by_other, None),
        "pronunciation rule": (rule, None),
        "studio project": (project, None),
        "studio line": (take.line, None),
        "studio take": (take, take_bytes),
        "studio export": (export, b"RIFF-export-audio"),
        "transcription": (transcription, b"RIFF-transcribed"),
        "webhook delivery": (delivery, None),
        "account event": (event, None),
        "their A/B answer": (mine_heard, None),
    }


@pytest.mark.django_db
def test_the_archive_holds_what_the_studio_checks_lab_library_transcripts_and_webhooks_keep(
    user, other_user, make_clone
):
    from privacy.tasks import build_export

    clone = make_clone(name="My voice")
    theirs = make_clone(owner=other_user, name="Someone else's", visibility=Clone.Visibility.PUBLIC)
    held = everything_later_features_hold(user, other_user, clone, theirs)
    export = DataExport.objects.create(user=user)
    build_export(export.pk)
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    with export.archive.open("rb") as file:
        archive = zipfile.ZipFile(io.BytesIO(file.read()))
    read = lambda name: json.loads(archive.read(name))  # noqa: E731

    (clone_out,) = read("clones.json")
    (part,) = clone_out["sample_parts"]
    assert part["name"] == "kitchen.wav" and archive.read(part["file"]) == b"RIFF-part-audio"
    assert clone_out["similarity"]["score"] == 0.87 and clone_out["lab_take"]["is_main"]
    (heard,) = clone_out["listening_rounds"]
    assert heard["answer"] == "b" and "listener_id" not in heard, "who listened is not the user's data"
    assert clone_out["library"]["stats"]["plays"] == 3
    assert clone_out["library"]["showcase"][0]["utterance_id"] == held["showcase"][0].utterance_id

    (project,) = read("studio.json")
    (line,) = project["lines"]
    (take,) = line["takes"]
    assert project["uuid"] == str(held["studio project"][0].uuid) and line["text"] == held["studio line"][0].text
    assert archive.read(take["file"]) == held["studio take"][1]
    (export_out,) = project["exports"]
    assert archive.read(export_out["file"]) == b"RIFF-export-audio"
    (transcription,) = read("transcriptions.json")
    assert transcription["text"] == "what the sample says"
    assert archive.read(transcription["file"]) == b"RIFF-transcribed"

    assert [r["phrase"] for r in read("other/checks.pronunciationrule.json")] == ["GIF"]
    assert [(m["kind"], m["clone_id"]) for m in read("other/library.mark.json")] == [("like", theirs.pk)]
    assert [r["answer"] for r in read("other/lab.listeninground.json")] == ["b"]
    assert len(read("other/lab.voice.json")) == 1
    (endpoint,) = read("webhooks.json")
    assert [d["event"] for d in endpoint["deliveries"]] == ["clone.ready"]
    assert [e["kind"] for e in read("sign_ins.json")["account_events"]] == ["password_reset"]
    names = archive.namelist()
    assert not [name for name in names if name.startswith("other/studio.") or name.startswith("other/transcripts.")]
    assert b"Someone else's" not in b"".join(archive.read(name) for name in names)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_closing_removes_the_rows_and_files_of_the_studio_checks_lab_library_transcripts_and_webhooks(
    client, user, other_user, sandbox, make_clone, celery_worker
):
    clone = provider_voice(sandbox, make_clone(status=Clone.Status.QUEUED))
    theirs = make_clone(owner=other_user, name="Someone else's", visibility=Clone.Visibility.PUBLIC)
    held = everything_later_features_hold(user, other_user, clone, theirs)
    files = [clone.sample.path, clone.preview_audio.path, held["showcase"][0].utterance.audio.path]
    files += [row.audio.path for row in (held["sample part"][0], held["studio export"][0])]
    files += [held["studio take"][0].audio.path, held["transcription"][0].sample.path]
    assert all(os.path.exists(path) for path in files)
    kept_files = [theirs.sample.path, theirs.preview_audio.path]

    client.force_login(user)
    assert client.post(reverse("privacy:close"), {"password": PASSWORD, "confirm": "on"}).status_code == 302
    wait_until(lambda: AccountClosure.objects.filter(finished_at__isnull=False).exists(), timeout=90)

    assert sandbox.voices() == [] and [c["status"] for c in sandbox.calls("voice.delete")] == [200]
    left = {name: type(row).objects.filter(pk=row.pk).exists() for name, (row, _data) in held.items()}
    assert left == {name: name == "their A/B answer" for name in held}
    answer = held["their A/B answer"][0]
    answer.refresh_from_db()
    assert answer.listener is None and answer.answer == "b", "kept for the other voice's owner, without who"
    assert [path for path in files if os.path.exists(path)] == []
    assert all(os.path.exists(path) for path in kept_files)
