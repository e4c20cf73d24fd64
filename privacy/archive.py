"""What a user's data export holds, written into one zip file.

Everything we keep about a person: the account, every clone with its sample, original upload,
preview and quality report, every speech with its audio, API tokens (names, never secrets), webhook
endpoints, the usage ledger and the sign-in records. Rows of any other app that point at the user
(likes, for example) are included as they are, under other/, so a new feature cannot be left out.
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
    "privacy.dataexport",
    "privacy.accountclosure",
    "admin.logentry",
}


def _json(data):
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _row(instance):
    row = {}
    for field in instance._meta.concrete_fields:
        if field.name in SECRET_FIELDS or (field.is_relation and not field.many_to_one):
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
                    "files": {
                        key: f"{base}/{key}.{field.name.rsplit('.', 1)[-1]}" if field else None
                        for key, field in _clone_files(clone)
                    },
                }
            )
            for key, field in _clone_files(clone):
                if field:
                    _add_file(archive, field, clones[-1]["files"][key])
        archive.writestr("clones.json", _json(clones))

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


def _sign_ins(user):
    """django-axes' records of sign-ins and failed attempts, which are kept by user name."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    return {
        name: [_row(row) for row in model.objects.filter(username=user.username)]
        for name, model in (("sign_ins", AccessLog), ("failed_attempts", AccessAttempt), ("failures", AccessFailureLog))
    }


def forget_sign_ins(user):
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessLog, AccessAttempt, AccessFailureLog):
        model.objects.filter(username=user.username).delete()
