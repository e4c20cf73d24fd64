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


def hear(audio, owner, client, on_call=None):
    """What the recognizer hears in `audio` (WAV or MP3 bytes), piece after piece, charged to `owner`."""
    heard = []
    for piece in pieces(decode_mono(audio, SPEECH_RATE)):
        seconds = max(1, math.ceil(len(piece) / SPEECH_RATE))
        with transaction.atomic():
            charge(owner, Usage.Kind.CHECK_SECONDS, seconds, per_minute=False)
        if on_call:
            on_call()
        text = client.transcribe(wav_bytes(piece.astype("<i2"), SPEECH_RATE), "take.wav",
                                 model=settings.BIGMODEL_ASR_MODEL)  # fmt: skip
        if text.strip():
            heard.append(text.strip())
    spaced = any(ch.isascii() and ch.isalpha() for text in heard for ch in text)
    return (" " if spaced else "").join(heard)
