"""The provider's audible watermark: found at the start of a part, and trimmed where parts are joined.

`/audio/speech` marks speech as AI-generated unless `watermark_enabled` is false ("true: 默认启用AI生成的
显式水印及隐式数字水印", docs.bigmodel.cn, 文本转语音). Third-party code reports the audible mark as short
tone bursts in the first ~700 ms of every WAV, frames whose energy lies mostly above 2 kHz. Long texts are
spoken in parts and joined, so without care the listener hears the mark at every join. The joined audio
keeps the first part's mark (the label the law asks for, at the start) and `trim_leading_tone` takes it
off the start of every later part. The hidden mark is in the signal itself and untouched.

Everything here works on one part's samples (mono, int16 or float), so a join that streams part by part
can call `trim_leading_tone` on each part as it goes.
"""

import numpy as np

# Where the mark may be: the reports say ~700 ms; a little more for a part that starts late.
SEARCH_SECONDS = 1.0
FRAME_SECONDS = 0.02
# A frame is a tone when most of its energy is above this frequency and in one narrow band (a beep),
# which speech never is: vowels sit low, and hissing consonants spread their energy wide.
TONE_ABOVE_HZ = 1500.0
HIGH_SHARE = 0.6
PEAK_SHARE = 0.6
PEAK_HALF_WIDTH_HZ = 100.0
# Quieter than this is silence (dBFS of the frame's RMS).
SILENCE_DB = -45.0


def _as_float(samples):
    samples = np.asarray(samples)
    if samples.dtype.kind == "i":
        return samples.astype(np.float32) / 32768.0
    return samples.astype(np.float32)


def _kind(chunk, rate):
    """ "tone", "silence" or "other" for one frame."""
    rms = float(np.sqrt(np.mean(chunk**2)))
    if rms == 0 or 20 * np.log10(rms) < SILENCE_DB:
        return "silence"
    power = np.abs(np.fft.rfft(chunk * np.hanning(len(chunk)))) ** 2
    freqs = np.fft.rfftfreq(len(chunk), 1 / rate)
    total = power.sum()
    peak = freqs[int(np.argmax(power))]
    high = power[freqs >= TONE_ABOVE_HZ].sum() / total
    near_peak = power[np.abs(freqs - peak) <= PEAK_HALF_WIDTH_HZ].sum() / total
    return "tone" if high > HIGH_SHARE and near_peak > PEAK_SHARE else "other"


def _frames(samples, rate, seconds=None):
    """(start, end, kind) of each 20 ms frame, over the first `seconds` or the whole audio."""
    samples = _as_float(samples)
    frame = int(FRAME_SECONDS * rate)
    stop = len(samples) if seconds is None else min(len(samples), int(seconds * rate))
    for start in range(0, stop - frame + 1, frame):
        yield start, start + frame, _kind(samples[start : start + frame], rate)


def leading_tone_end(samples, rate):
    """Return where the watermark's lead-in ends (a sample index), 0 when the part does not start with one.

    The lead-in is the run of tone and silence frames from the very start, up to the first frame of
    anything else; it counts only if it holds at least two tone frames (40 ms of beep)."""
    tones, end = 0, 0
    for _, frame_end, kind in _frames(samples, rate, SEARCH_SECONDS):
        if kind == "other":
            break
        tones += kind == "tone"
        end = frame_end
    return end if tones >= 2 else 0


def has_leading_tone(samples, rate):
    return leading_tone_end(samples, rate) > 0


def trim_leading_tone(samples, rate):
    """Return the part without the watermark's lead-in (tone bursts and the silence around them)."""
    return samples[leading_tone_end(samples, rate) :]


def tone_seconds(samples, rate):
    """Return the start times (s) of every tone frame in the whole audio: where a listener hears a beep."""
    return [start / rate for start, _, kind in _frames(samples, rate) if kind == "tone"]


def trim_part_chunks(index, chunks, rate=24000):
    """The same for a join that streams each part as chunks of samples (`trim=` of a part-by-part join):
    the first part passes untouched; of every later part, the first SEARCH_SECONDS are gathered, their
    lead-in cut, and the rest passed on as it comes. Holds at most SEARCH_SECONDS of samples."""
    chunks = iter(chunks)
    if index == 0:
        yield from chunks
        return
    head, size = [], 0
    for chunk in chunks:
        head.append(chunk)
        size += len(chunk)
        if size >= SEARCH_SECONDS * rate:
            break
    if head:
        gathered = np.concatenate(head)
        yield gathered[leading_tone_end(gathered, rate) :]
    yield from chunks
