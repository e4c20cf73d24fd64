"""Recordings of different speakers made on the spot with eSpeak NG voices (the sandbox's own engine)."""

import numpy as np

from sandbox import voice as espeak
from sandbox.voice import to_wav

SENTENCES = [
    "The quick brown fox jumps over the lazy dog, and the dog does not seem to mind at all.",
    "Peter Piper picked a peck of pickled peppers; how many pickled peppers did Peter Piper pick?",
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
    "How much wood would a woodchuck chuck if a woodchuck could chuck wood all day long?",
    "A journey of a thousand miles begins with a single step, taken slowly and with care.",
]

# Two clearly different speakers: eSpeak's male variant 3 at a low pitch, its female variant 4 at a high one.
SPEAKERS = {"low": ("en+m3", 35), "high": ("en+f4", 85)}


def speak(text, speaker="low", *, pause=0.0, noise=0.0, seed=0):
    """(float32 samples, rate) of `text` in one of SPEAKERS' voices, with optional silence and noise around it."""
    voice, pitch = SPEAKERS[speaker]
    # The sandbox's own engine and lock: eSpeak NG keeps global state, and the sandbox may be speaking in
    # another thread of this process; a second engine would replace its callback under it.
    with espeak._lock:
        if espeak._engine is None:
            espeak._engine = espeak._Engine()
        engine = espeak._engine
        samples = engine.speak(text, voice=voice, pitch=pitch, words_per_minute=165).astype(np.float32) / 32768
        rate = engine.rate
    if pause:
        gap = np.zeros(int(pause * rate), dtype=np.float32)
        samples = np.concatenate([gap, samples, gap])
    if noise:
        samples = samples + np.random.default_rng(seed).normal(0, noise, len(samples)).astype(np.float32)
    return samples, rate


def speech_wav(text, speaker="low", **kwargs):
    samples, rate = speak(text, speaker, **kwargs)
    return to_wav(samples, rate)
