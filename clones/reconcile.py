"""Keeping our voices in step with the provider's `/voice/list`.

Voices on the provider that we don't know cost the account and belong to nobody: they are listed
for import or deletion. Clones we think exist but the provider doesn't are marked gone.
"""

from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.utils import timezone

from clones.audio import sniff_format
from clones.models import Clone


@dataclass
class Report:
    unknown: list = field(default_factory=list)  # bigmodel.Voice records
    gone: list = field(default_factory=list)  # Clone rows the provider no longer has, not yet marked
    back: list = field(default_factory=list)  # Clone rows marked gone whose voice the provider has again


def compare(client):
    """What differs between the provider's voice list and our clones; changes nothing (see `apply`)."""
    voices = client.list_voices(voice_type="PRIVATE")
    on_provider = {voice.voice for voice in voices}
    ours = Clone.objects.exclude(voice_id="")
    known_ids = set(ours.values_list("voice_id", flat=True))
    # A clone still at work whose answer was lost has no voice id yet, but its unique name is ours.
    # A failed clone's name is not: a voice under it costs the account and must be listed.
    working = Clone.objects.filter(voice_id="").exclude(status=Clone.Status.FAILED)
    known_names = set(working.values_list("voice_name", flat=True))
    report = Report(unknown=[v for v in voices if v.voice not in known_ids and v.voice_name not in known_names])
    report.gone = list(
        ours.filter(gone_at__isnull=True, deletion_requested_at__isnull=True).exclude(voice_id__in=on_provider)
    )
    # A voice missing from one listing (a provider hiccup) and listed again is not gone after all.
    report.back = list(ours.filter(gone_at__isnull=False, voice_id__in=on_provider))
    return report


def apply(report):
    """Mark the report's missing clones gone, and clear the mark of those the provider has again."""
    Clone.objects.filter(pk__in=[c.pk for c in report.gone], gone_at__isnull=True).update(gone_at=timezone.now())
    Clone.objects.filter(pk__in=[c.pk for c in report.back]).update(gone_at=None)


def reconcile(client):
    """Compare and apply at once: for the management command, which an operator runs on purpose."""
    report = compare(client)
    apply(report)
    return report


def import_voice(client, voice, owner):
    """A Clone row for a provider voice we did not know, with its preview stored by us."""
    preview = client.download(voice.download_url) if voice.download_url else b""
    clone = Clone(
        owner=owner,
        name=voice.voice_name,
        voice_name=voice.voice_name,
        voice_id=voice.voice,
        provider_model="",
        preview_text="",
        status=Clone.Status.READY,
        finished_at=timezone.now(),
    )
    audio_format = sniff_format(preview)
    if audio_format:
        clone.preview_audio.save(f"{clone.uuid}.{audio_format}", ContentFile(preview), save=False)
    clone.save()
    return clone
