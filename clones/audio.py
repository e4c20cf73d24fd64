"""The audio basics both sides share: the provider's formats, decoding to mono, waveforms, WAV writing.

Sample intake (what a person uploads) is clones/intake.py, which builds on this module; the audio
the provider sends back (previews, speech) is read here too. Imports run one way: intake -> audio.
"""

import io
import wave

import av
import numpy as np
from django.utils.translation import gettext_lazy as _

from clones.watermark import trim_leading_tone

# The container formats the provider's clone call accepts, and the ones its audio comes back in.
PROVIDER_FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg"}
# The provider's speech comes as 24 kHz mono.
SPEECH_RATE = 24000
# How many bars a waveform outline has.
PEAKS = 120


class AudioError(ValueError):
    """The bytes are not usable audio; the message is for the user."""


def sniff_format(data):
    """Tell WAV from MP3 by the first bytes, for audio the provider sends us."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


# A WAV or AIFF header states everything about its stream; FFmpeg's probing, which reads and decodes
# ahead to fill in what a header leaves out, would only cost time (about 2 ms a file).
_HEADER_ONLY = {"probesize": "32", "analyzeduration": "0"}


def open_container(fileobj, demuxer):
    options = _HEADER_ONLY if demuxer in ("wav", "aiff") else {}
    return av.open(fileobj, mode="r", format=demuxer, options=options, metadata_errors="ignore")


def peak_level(samples):
    return max(float(samples.max()), -float(samples.min())) if len(samples) else 0.0


def clock(seconds):
    """Seconds as m:ss, as players show them."""
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}:{seconds:02d}"


def peaks(samples, count=PEAKS):
    """A waveform outline: the loudest sample in each of `count` slices, 0..1."""
    samples = np.asarray(samples)
    scale = 32768 if samples.dtype.kind == "i" else 1.0
    if len(samples) == 0:
        return []
    edges = np.linspace(0, len(samples), min(count, len(samples)) + 1).astype(int)
    return [round(min(peak_level(samples[a:b]) / scale, 1.0), 3) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def wav_bytes(pcm, rate):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def decode_mono(data, rate=SPEECH_RATE):
    """Any audio PyAV reads, as 16-bit mono samples at `rate` (a numpy array)."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    chunks = []
    try:
        with open_container(io.BytesIO(data), sniff_format(data)) as container:
            for frame in container.decode(audio=0):
                chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
        chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except (av.FFmpegError, EOFError, ValueError, IndexError) as exc:
        raise AudioError(_("This file is not audio we can read, or it is damaged.")) from exc
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


def join_speech(parts, pause_seconds=0.3, rate=SPEECH_RATE):
    """Join synthesized parts into one WAV with a short pause between them; returns (bytes, seconds)."""
    pause = np.zeros(int(pause_seconds * rate), dtype=np.int16)
    pieces = []
    for index, part in enumerate(parts):
        samples = decode_mono(part, rate)
        if index:
            pieces.append(pause)
            # The provider's audible mark once, at the start of the whole, not at every join.
            samples = trim_leading_tone(samples, rate)
        pieces.append(samples)
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
    return wav_bytes(samples.astype("<i2"), rate), len(samples) / rate
