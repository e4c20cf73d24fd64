"""Hearing speech back: audio sent to the provider's recognizer, in pieces the recognizer accepts.

glm-asr-2512 takes at most 30 s of audio a call, so a longer take is cut into pieces of at most
CHECK_PIECE_SECONDS, each cut at the quietest 100 ms of its last third (between words, not inside one).
Each piece is charged to the owner (seconds of speech checked) just before its call, as every provider
call is; a refused charge makes no call.
"""

import math

import numpy as np
from django.conf import settings
from django.db import transaction

from accounts.models import Usage, charge
from clones.audio import SPEECH_RATE, decode_mono, wav_bytes

WINDOW = SPEECH_RATE // 10  # 100 ms


def pieces(samples, rate=SPEECH_RATE, longest=None):
    """The samples cut into pieces of at most `longest` seconds, each cut at a quiet moment."""
    longest = round((longest or settings.CHECK_PIECE_SECONDS) * rate)
    out, start = [], 0
    while len(samples) - start > longest:
        window = samples[start + longest * 2 // 3 : start + longest].astype(np.float64)
        frames = len(window) // WINDOW
        energy = np.square(window[: frames * WINDOW]).reshape(frames, WINDOW).sum(axis=1)
        cut = start + longest * 2 // 3 + int(np.argmin(energy)) * WINDOW + WINDOW // 2
        out.append(samples[start:cut])
        start = cut
    out.append(samples[start:])
    return out


def hear(audio, owner, client, on_call=None, duration=None):
    """What the recognizer hears in `audio` (WAV bytes), piece after piece, charged to `owner`.

    A take known to be short enough (`duration` in seconds) is sent as it is, without decoding it."""
    if duration is not None and duration <= settings.CHECK_PIECE_SECONDS:
        sent = [(audio, duration)]
    else:
        sent = [(wav_bytes(p.astype("<i2"), SPEECH_RATE), len(p) / SPEECH_RATE) for p in pieces(decode_mono(audio))]
    heard = []
    for data, seconds in sent:
        with transaction.atomic():
            charge(owner, Usage.Kind.CHECK_SECONDS, max(1, math.ceil(seconds)), per_minute=False)
        if on_call:
            on_call()
        text = client.transcribe(data, "take.wav", model=settings.BIGMODEL_ASR_MODEL)
        if text.strip():
            heard.append(text.strip())
    spaced = any(ch.isascii() and ch.isalpha() for text in heard for ch in text)
    return (" " if spaced else "").join(heard)
