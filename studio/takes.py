"""Making a take: the line's words spoken by the provider, its pauses as silence, measured and normalized.

Each piece of speech between pauses is one provider call, charged to the owner's quota just before it
is made (a refused charge makes no call). The take's WAV is kept as spoken; its samples brought to the
project's loudness target are kept too, for exports (studio/mastering.py).
"""

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Usage, charge
from checks.models import spoken_form
from studio import mastering
from studio.models import Line, Take
from studio.script import segments


class VoiceUnavailable(Exception):
    """The take's voice may no longer be used (a clone deleted, made private, or gone at the provider)."""


def check_voice(take):
    clone = take.line.voice_clone()
    owner = take.line.project.owner
    if clone is not None and (not clone.can_speak(owner) or clone.deletion_requested_at):
        raise VoiceUnavailable(_("The voice “%(name)s” can no longer be used: choose another.") % {"name": clone.name})


def speak(take, client):
    """Synthesize the take, store it, and make it the line's chosen take. Provider errors propagate."""
    check_voice(take)
    owner = take.line.project.owner
    # The owner's pronunciation rules rewrite the text before it is sent; the take keeps what was sent.
    take.sent_text = spoken_form(take.text, owner, take.line.voice_clone())
    pieces = []
    for kind, value in segments(take.sent_text):
        if kind == "pause":
            pieces.append(np.zeros(round(value * mastering.RATE), dtype=np.int16))
            continue
        with transaction.atomic():
            # Counted in the charge's transaction, before its lock: one commit for both, and a refused
            # charge counts no call.
            Take.objects.filter(pk=take.pk).update(provider_calls=take.provider_calls + 1)
            charge(owner, Usage.Kind.SPEECH_CHARS, len(value), per_minute=False)
        take.provider_calls += 1
        audio = client.speech(
            input=value,
            voice=take.voice,
            model=settings.BIGMODEL_TTS_MODEL,
            speed=take.speed,
            volume=take.volume,
            response_format="wav",
        )
        pieces.append(mastering.decode(audio))
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
    take.loudness_lufs, take.peak = mastering.measure(samples)
    target = take.line.project.loudness_target
    take.audio.save(f"{take.uuid}.wav", ContentFile(mastering.wav_bytes(samples)), save=False)
    normalized = mastering.normalize(samples, take.loudness_lufs, take.peak, target)
    take.normalized.save(f"{take.uuid}.pcm", ContentFile(normalized), save=False)
    take.normalized_target = target
    take.duration = round(len(samples) / mastering.RATE, 3)
    take.status, take.finished_at, take.lease_expires_at = Take.Status.READY, timezone.now(), None
    take.error_code = take.error_message = ""
    if take.line.project.check_speech:
        # Marked in the same save that makes it ready, so the take is never seen ready and not yet checked.
        take.check_status = Take.Check.PENDING
    with transaction.atomic():
        take.save()
        # The newest take is the one the owner asked for last: it becomes the chosen one (the owner
        # can choose an older one again), unless the line changed meanwhile and this take is stale.
        # A take made again because the one before differed is chosen by its check instead.
        if not take.auto_retry:
            Line.objects.filter(pk=take.line_id, revision=take.revision).update(chosen_take=take, chosen_by_owner=False)
