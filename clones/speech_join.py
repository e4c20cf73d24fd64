"""Joining spoken parts into one WAV on disk, part by part, so that a long text is never in memory whole.

A 10,000-character text is about ten parts and can be an hour of audio (over 100 MB as 16-bit WAV).
Each part arrives in a file of its own (see `Utterance.synthesize`); `join_parts` decodes them in
order, a frame at a time, and appends the samples to the output file, with a short pause between
parts. Memory stays at one decoded frame whatever the length.

`trim` is where a per-part correction plugs in (the provider's watermark tone at the joins, for
example): a function taking a part's index and its chunks of samples (int16 numpy arrays, in order)
and yielding the chunks to keep.
"""

import wave

import av
import numpy as np

SPEECH_RATE = 24000
# Samples written per pause chunk: a pause is written in pieces too, however long it is.
_PAUSE_CHUNK = 24000


def part_chunks(path, rate=SPEECH_RATE):
    """Yield the audio file at `path` as 16-bit mono chunks at `rate`, one decoded frame at a time."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                yield out.to_ndarray().reshape(-1)
    for out in resampler.resample(None):
        yield out.to_ndarray().reshape(-1)


def _silence(samples):
    while samples > 0:
        count = min(samples, _PAUSE_CHUNK)
        yield np.zeros(count, dtype=np.int16)
        samples -= count


def join_parts(paths, out, *, pause_seconds=0.3, rate=SPEECH_RATE, trim=None):
    """Write the parts at `paths`, in order, into the WAV file `out` (a path); return its length in seconds."""
    frames = 0
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        for index, path in enumerate(paths):
            chunks = part_chunks(path, rate)
            if trim is not None:
                chunks = trim(index, chunks)
            if index:
                chunks = _with_pause(chunks, int(pause_seconds * rate))
            for chunk in chunks:
                wav.writeframesraw(chunk.astype("<i2", copy=False).tobytes())
                frames += len(chunk)
    # The header's sizes are patched by `wave` on close, as the output is a seekable file.
    return frames / rate


def _with_pause(chunks, samples):
    yield from _silence(samples)
    yield from chunks
