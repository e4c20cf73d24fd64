"""What a user's data export holds, written into one zip file.

Everything we keep about a person: the account, every clone with its sample, original upload,
preview and quality report and what the lab and the library hold about it (the recordings a sample
was joined from, similarity score, blind A/B results, showcase, counters), every speech with its
audio, studio projects with their lines, takes and exports and their audio, transcriptions with
their samples, API tokens (names, never secrets), webhook endpoints with their delivery logs, the
usage ledger and the sign-in records. Rows of any other app that point at the user (likes and saves,
pronunciation rules, for example) are included as they are, under other/, so a new feature cannot be
left out. Of other people, nothing that says who they are: an A/B result on the user's voice is kept
without its listener.
"""

import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from api.serialize import clone_json, utterance_json

# Secrets and hashes of secrets are never exported: they are ours, and useless to anyone else.
SECRET_FIELDS = {"password", "digest", "secret", "share_token"}
# Related rows that have their own section above, or that hold nothing about the person.
COVERED = {
    "clones.clone",
    "clones.utterance",
    "accounts.apitoken",
    "accounts.usage",
    "accounts.limits",
    "webhooks.endpoint",
    "studio.project",
    "transcripts.transcription",
    "privacy.dataexport",
    "privacy.accountclosure",
    "admin.logentry",
}


def _json(data):
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _row(instance):
    row = {}
    for field in instance._meta.concrete_fields:
        if field.name in SECRET_FIELDS or field.many_to_many:
            continue
        value = getattr(instance, field.attname)
        row[field.attname] = value.name if isinstance(value, FieldFile) else value
    return row


def _add_file(archive, field, name):
    if field:
        with field.open("rb") as source, archive.open(name, "w") as target:
            while chunk := source.read(1024 * 1024):
                target.write(chunk)


def write(user, fileobj):
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        limits = getattr(user, "limits", None)
        archive.writestr(
            "account.json",
            _json(
                {
                    "username": user.username,
                    "email": user.email,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "date_joined": user.date_joined,
                    "last_login": user.last_login,
                    "is_staff": user.is_staff,
                    "limits": _row(limits) if limits else None,
                    "exported_at": timezone.now(),
                }
            ),
        )
        clones = []
        for clone in user.clones.prefetch_related("tags"):
            base = f"clones/{clone.uuid}"
            clones.append(
                {
                    **clone_json(clone),
                    "consent_at": clone.consent_at,
                    "quality_report": clone.quality,
                    "files": {key: _file_name(field, f"{base}/{key}") for key, field in _clone_files(clone)},
                    **_lab_and_library(archive, clone, base),
                }
            )
            for key, field in _clone_files(clone):
                if field:
                    _add_file(archive, field, clones[-1]["files"][key])
        archive.writestr("clones.json", _json(clones))
        archive.writestr("studio.json", _json(_studio(archive, user)))
        transcriptions = []
        for transcription in user.transcriptions.all():
            name = _file_name(transcription.sample, f"transcriptions/{transcription.uuid}")
            transcriptions.append({**_row(transcription), "file": name})
            _add_file(archive, transcription.sample, name)
        archive.writestr("transcriptions.json", _json(transcriptions))

        utterances = []
        for utterance in user.utterances.select_related("clone"):
            name = f"utterances/{utterance.uuid}.wav" if utterance.audio else None
            utterances.append({**utterance_json(utterance), "file": name})
            if name:
                _add_file(archive, utterance.audio, name)
        archive.writestr("utterances.json", _json(utterances))

        archive.writestr("api_tokens.json", _json([_row(token) for token in user.api_tokens.all()]))
        archive.writestr("usage.json", _json([_row(usage) for usage in user.usage.order_by("created_at")]))
        archive.writestr(
            "webhooks.json",
            _json(
                [
                    {**_row(endpoint), "deliveries": [_row(d) for d in endpoint.deliveries.all()[:1000]]}
                    for endpoint in user.webhook_endpoints.all()
                ]
            ),
        )
        archive.writestr("sign_ins.json", _json(_sign_ins(user)))
        for relation in user._meta.related_objects:
            label = relation.related_model._meta.label_lower
            if label in COVERED or not (relation.one_to_many or relation.one_to_one):
                continue
            rows = relation.related_model._default_manager.filter(**{relation.field.name: user})
            archive.writestr(f"other/{label}.json", _json([_row(row) for row in rows]))


def _clone_files(clone):
    return (("sample", clone.sample), ("original", clone.original), ("preview", clone.preview_audio))


def _file_name(field, stem):
    """Where a stored file goes in the archive: `stem` with the file's own extension; None for no file."""
    return f"{stem}.{field.name.rsplit('.', 1)[-1]}" if field else None


def _one(instance, name):
    """The row on the other side of a one-to-one relation, or None."""
    return getattr(instance, name, None)


def _lab_and_library(archive, clone, base):
    """What the lab and the library hold about one of the user's clones."""
    parts = []
    for part in clone.sample_parts.all():
        name = _file_name(part.audio, f"{base}/parts/{part.position}")
        parts.append({**_row(part), "file": name})
        _add_file(archive, part.audio, name)
    rounds = [
        {key: value for key, value in _row(rnd).items() if key != "listener_id"} for rnd in clone.listening_rounds.all()
    ]
    take, similarity, stats = _one(clone, "take"), _one(clone, "similarity"), _one(clone, "stats")
    return {
        "sample_parts": parts,
        "lab_take": _row(take) if take else None,
        "similarity": _row(similarity) if similarity else None,
        "listening_rounds": rounds,
        "library": {
            "stats": _row(stats) if stats else None,
            "showcase": [_row(clip) for clip in clone.showcase.all()],
        },
    }


def _studio(archive, user):
    """Every studio project with its lines, each line's takes and the project's exports, and their audio."""
    projects = []
    for project in user.studio_projects.prefetch_related("lines__takes", "exports"):
        base = f"studio/{project.uuid}"
        lines = []
        for line in project.lines.all():
            takes = []
            for take in line.takes.all():
                name = _file_name(take.audio, f"{base}/takes/{take.uuid}")
                takes.append({**_row(take), "file": name})
                _add_file(archive, take.audio, name)
            lines.append({**_row(line), "takes": takes})
        exports = []
        for export in project.exports.all():
            name = _file_name(export.audio, f"{base}/exports/{export.uuid}")
            exports.append({**_row(export), "file": name})
            _add_file(archive, export.audio, name)
        projects.append({**_row(project), "lines": lines, "exports": exports})
    return projects


def _sign_in_records(user):
    """django-axes' records of sign-ins and failed attempts, kept by user name, and the sign-up and
    password-reset requests counted against abuse, kept by email address."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from accounts.models import AccountEvent

    by_name = (("sign_ins", AccessLog), ("failed_attempts", AccessAttempt), ("failures", AccessFailureLog))
    records = {name: model.objects.filter(username=user.username) for name, model in by_name}
    records["account_events"] = AccountEvent.objects.filter(email__iexact=user.email) if user.email else None
    return {name: rows for name, rows in records.items() if rows is not None}


def _sign_ins(user):
    return {name: [_row(row) for row in rows] for name, rows in _sign_in_records(user).items()}


def forget_sign_ins(user):
    for rows in _sign_in_records(user).values():
        rows.delete()
