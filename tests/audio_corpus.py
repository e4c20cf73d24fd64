"""Test audio in every format people bring, encoded on the spot with PyAV's own encoders."""

import io
import struct

import av
import numpy as np

from tests.samples import voice_like


def speech_like(seconds, *, rate=48000, level=0.3, noise_dbfs=-70.0, seed=1):
    """Phrases of voice-like sound (1.6 s) with pauses (0.4 s) over a faint noise floor, like a reading."""
    voice, rate = voice_like(seconds, rate=rate, level=level)
    t = np.arange(len(voice)) / rate
    voice = voice * ((t % 2.0) < 1.6)
    noise = np.random.default_rng(seed).normal(0, 10 ** (noise_dbfs / 20), len(voice))
    return (voice + noise).astype(np.float32), rate


def encode(
    samples,
    rate,
    *,
    container,
    codec,
    sample_format="fltp",
    channels=1,
    bit_rate=None,
    options=None,
    metadata=None,
    video=False,
    audio=True,
):
    """`samples` (mono float32) encoded as `codec` in `container`; stereo copies the signal to both sides."""
    layout = "stereo" if channels == 2 else "mono"
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        if metadata:
            out.metadata.update(metadata)
        if video:
            picture = out.add_stream("mpeg4", rate=10)
            picture.width, picture.height, picture.pix_fmt = 64, 48, "yuv420p"
        if audio:
            stream = out.add_stream(codec, rate=rate, layout=layout)
            stream.format = sample_format
            if bit_rate:
                stream.bit_rate = bit_rate
            if codec == "vorbis":  # FFmpeg's own Vorbis encoder (the wheel has no libvorbis)
                options = {**(options or {}), "strict": "experimental"}
            if options:
                stream.codec_context.options = options
        data = np.tile(samples, (channels, 1))
        chunk = 1024
        for start in range(0, data.shape[1], chunk) if audio else ():
            part = np.ascontiguousarray(data[:, start : start + chunk])
            frame = av.AudioFrame.from_ndarray(part, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        if video:
            seconds = len(samples) / rate
            for index in range(int(seconds * 10)):
                image = np.full((48, 64, 3), index * 8 % 256, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts = index
                for packet in picture.encode(frame):
                    out.mux(packet)
            for packet in picture.encode(None):
                out.mux(packet)
        if audio:
            for packet in stream.encode(None):
                out.mux(packet)
    return buffer.getvalue()


def wav(samples, rate, *, codec="pcm_s16le", sample_format="s16", channels=1):
    return encode(samples, rate, container="wav", codec=codec, sample_format=sample_format, channels=channels)


def wav_with_data_size(data, declared):
    """A WAV whose data chunk header declares `declared` bytes, whatever follows."""
    position = data.index(b"data")
    return data[: position + 4] + struct.pack("<I", declared) + data[position + 8 :]


def png_bytes():
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="image2pipe") as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "rgb24"
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), dtype=np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return buffer.getvalue()
