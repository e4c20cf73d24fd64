"""Mastering: each take brought to the project's loudness once, and takes joined into one file.

Loudness is the ITU-R BS.1770 integrated loudness that sample intake measures (clones.intake,
pyloudnorm's K-weighting and gating), so a take is matched the same way a sample is. A take's
normalized samples are kept as raw 16-bit PCM (`Take.normalized`): an export joins those files a
second at a time, so it decodes no take twice and never holds the whole programme in memory, and a
re-export after one line was regenerated reads the other lines' files as they are.
"""

import io
import math
import tempfile
import wave

import av
import numpy as np
from django.core.files import File
from django.core.files.base import ContentFile

from clones.audio import SPEECH_RATE, decode_mono
from clones.audio import wav_bytes as audio_wav_bytes
from clones.intake import integrated_loudness
from studio.script import spoken_text

RATE = SPEECH_RATE
PEAK_CEILING_DBFS = -1.0
CHUNK_SAMPLES = RATE  # a second at a time: bounded memory, few enough writes
MP3_BITRATE = 128_000
# LAME's -q 5: its own balance of speed and quality, about twice as fast as the default -q 3 with the
# LAME inside PyAV's wheel, and no audible difference for speech at 128 kbps (bench/README.md).
MP3_QUALITY = "5"


def measure(samples):
    """(integrated loudness in LUFS, sample peak 0..1) of 16-bit mono samples."""
    floats = samples.astype(np.float32) / 32768
    peak = float(np.max(np.abs(floats))) if len(floats) else 0.0
    return integrated_loudness(floats, RATE), peak


def gain_db(loudness, peak, target):
    """The gain that brings a take to `target` LUFS without its peaks passing PEAK_CEILING_DBFS."""
    if not math.isfinite(loudness) or peak <= 0:
        return 0.0  # silence stays silence
    return min(target - loudness, PEAK_CEILING_DBFS - 20 * math.log10(peak))


def normalize(samples, loudness, peak, target):
    """16-bit samples with the gain applied, as little-endian bytes."""
    factor = 10 ** (gain_db(loudness, peak, target) / 20)
    scaled = np.rint(samples.astype(np.float32) * np.float32(factor))
    return np.clip(scaled, -32768, 32767).astype("<i2").tobytes()


def wav_bytes(samples):
    return audio_wav_bytes(samples.astype("<i2"), RATE)


def decode(data):
    """16-bit mono samples at RATE. The provider's WAVs are that already: read them as they are (no
    decoder, no resampler); anything else goes through PyAV."""
    try:
        with wave.open(io.BytesIO(data)) as audio:
            if (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, RATE):
                samples = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
                if len(samples):  # a streamed WAV may declare no length: PyAV reads those to the end
                    return samples
    except (wave.Error, EOFError):
        pass
    return decode_mono(data, RATE)


def ensure_normalized(take, target):
    """Make sure the take's normalized PCM matches `target`; True if the take had to be decoded for it."""
    if take.normalized and take.normalized_target == target:
        return False
    with take.audio.open("rb") as audio:
        samples = decode(audio.read())
    if take.loudness_lufs is None or take.peak is None:
        take.loudness_lufs, take.peak = measure(samples)
    if take.normalized:
        take.normalized.delete(save=False)
    take.normalized.save(f"{take.uuid}.pcm", ContentFile(normalize(samples, take.loudness_lufs, take.peak, target)),
                         save=False)  # fmt: skip
    take.normalized_target = target
    take.save(update_fields=["normalized", "normalized_target", "loudness_lufs", "peak", "updated_at"])
    return True


# -- writing the programme ----------------------------------------------------------------------------


class WavWriter:
    """A 16-bit mono WAV written as it comes; the header's sizes are filled in at the end."""

    def __init__(self, fileobj):
        self.out = wave.open(fileobj, "wb")
        self.out.setnchannels(1)
        self.out.setsampwidth(2)
        self.out.setframerate(RATE)

    def write(self, pcm):
        self.out.writeframesraw(pcm)

    def close(self):
        self.out.close()  # seeks back to write the real sizes into the header


class Mp3Writer:
    """MP3 by FFmpeg's LAME encoder inside PyAV: no system ffmpeg, frames encoded as they come."""

    def __init__(self, fileobj):
        self.container = av.open(fileobj, "w", format="mp3")
        self.stream = self.container.add_stream("mp3", rate=RATE, layout="mono")
        self.stream.bit_rate = MP3_BITRATE
        self.stream.codec_context.options = {"compression_level": MP3_QUALITY}

    def write(self, pcm):
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = RATE
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self):
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()


WRITERS = {"wav": WavWriter, "mp3": Mp3Writer}


class Programme:
    """Where the next sample goes, and what was placed where."""

    def __init__(self, writer):
        self.writer = writer
        self.samples = 0
        self.cues = []

    def silence(self, samples):
        while samples > 0:
            piece = min(samples, CHUNK_SAMPLES)
            self.writer.write(bytes(2 * piece))
            self.samples += piece
            samples -= piece

    def take(self, fieldfile, text):
        start = self.samples
        with fieldfile.open("rb") as pcm:
            while chunk := pcm.read(2 * CHUNK_SAMPLES):
                self.writer.write(chunk)
                self.samples += len(chunk) // 2
        self.cues.append([round(start / RATE, 3), round(self.samples / RATE, 3), text])


def master(export, lines, alive=lambda: None):
    """Join the chosen takes of `lines` (in order) into `export.audio`; returns how many were decoded.

    Every take is normalized to the project's target first (a no-op for takes already at it); then
    the normalized files are streamed into a temporary file, a second at a time, and stored. `alive`
    is called after each line, so the caller can show the sweep that the export is still moving.
    """
    target = export.project.loudness_target
    decoded = 0
    for line in lines:
        decoded += ensure_normalized(line.chosen_take, target)
        alive()
    with tempfile.TemporaryFile() as output:
        writer = WRITERS[export.format](output)
        programme = Programme(writer)
        for index, line in enumerate(lines):
            if export.keep_cue_times and line.cue_start is not None:
                programme.silence(round(line.cue_start * RATE) - programme.samples)
            elif index:
                programme.silence(round(lines[index - 1].pause_after * RATE))
            # The caption says what the chosen take says, which an edited line may no longer.
            programme.take(line.chosen_take.normalized, spoken_text(line.chosen_take.text))
            alive()
        writer.close()
        output.seek(0)
        export.audio.save(f"{export.uuid}.{export.format}", File(output), save=False)
    export.cues = programme.cues
    export.duration = round(programme.samples / RATE, 3)
    return decoded
