"""Voice-like test audio made on the spot: harmonic tones with a chosen pitch and syllable rhythm."""

import io
import wave

import av
import numpy as np


def voice_like(seconds, *, f0=120.0, rate=16000, level=0.3):
    """A buzzy harmonic tone at `f0` Hz, pulsed into syllables: pitch trackers read it like speech."""
    t = np.arange(int(seconds * rate)) / rate
    vibrato = 1 + 0.02 * np.sin(2 * np.pi * 5 * t)
    phase = 2 * np.pi * f0 * np.cumsum(vibrato) / rate
    signal = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 3.5 * t) ** 2
    signal = signal * syllables
    return (level * signal / np.max(np.abs(signal))).astype(np.float32), rate


def wav_bytes(seconds, *, f0=120.0, rate=16000, level=0.3):
    samples, rate = voice_like(seconds, f0=f0, rate=rate, level=level)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def mp3_bytes(seconds, *, f0=120.0, rate=24000, level=0.3):
    samples, rate = voice_like(seconds, f0=f0, rate=rate, level=level)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as container:
        stream = container.add_stream("mp3", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def wav_duration(data):
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getnframes() / audio.getframerate()
