"""Reading audio with PyAV: what a sample is, by its content, never by its name."""

import io
import wave
from dataclasses import dataclass

import av
import numpy as np
from django.utils.translation import gettext_lazy as _

# The container formats the provider's clone call accepts.
PROVIDER_FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg"}


class AudioError(ValueError):
    """The bytes are not usable audio; the message is for the user."""


@dataclass(frozen=True)
class AudioInfo:
    format: str
    duration: float
    sample_rate: int
    channels: int

    @property
    def content_type(self):
        return PROVIDER_FORMATS[self.format]


def inspect_audio(fileobj):
    """Decode the whole stream once: it proves the file is intact and gives the true duration."""
    fileobj.seek(0)
    try:
        with av.open(fileobj, mode="r") as container:
            if not container.streams.audio:
                raise AudioError(_("This file has no audio track."))
            stream = container.streams.audio[0]
            samples = 0
            for frame in container.decode(stream):
                samples += frame.samples
            format_name = _format_name(container.format.name)
            sample_rate = stream.codec_context.sample_rate or stream.sample_rate
            channels = stream.codec_context.channels
    except AudioError:
        raise
    except (av.FFmpegError, EOFError, ValueError, IndexError, OverflowError) as exc:
        raise AudioError(_("This file is not audio we can read, or it is damaged.")) from exc
    finally:
        fileobj.seek(0)
    if not sample_rate or not samples:
        raise AudioError(_("This file contains no sound."))
    return AudioInfo(format_name, samples / sample_rate, sample_rate, channels)


def _format_name(name):
    # FFmpeg reports some demuxers as comma-separated aliases ("mov,mp4,m4a,3gp,...").
    return name.split(",")[0]


def sniff_format(data):
    """Tell WAV from MP3 by the first bytes, for audio the provider sends us."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


SPEECH_RATE = 24000


def decode_mono(data, rate=SPEECH_RATE):
    """Any audio PyAV reads, as 16-bit mono samples at `rate` (a numpy array)."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    chunks = []
    try:
        with av.open(io.BytesIO(data)) as container:
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
        if index:
            pieces.append(pause)
        pieces.append(decode_mono(part, rate))
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue(), len(samples) / rate
