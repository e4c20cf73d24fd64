"""Real audio for the sandbox: eSpeak NG speaks the text, pitched toward the sample's voice.

The text is spoken one unit at a time (an English word with its punctuation, or one CJK character),
with short pauses between units, so the sandbox knows where each unit sits in its audio: that is what
lets `sandbox.hearing` give the words back when the audio comes back for transcription, and what lets
the `mispeak` fault drop, repeat or swap a unit. `watermark_prefix` imitates the provider's audible
AI-generated marking (see README, "The sandbox").
"""

import ctypes
import functools
import io
import re
import threading
import wave
from dataclasses import dataclass, field

import av
import espeakng_loader
import numpy as np

OUTPUT_RATE = 24000
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE, _ESPEAK_VOLUME, _ESPEAK_PITCH, _ESPEAK_RANGE = 1, 2, 3, 4
_CHARS_UTF8 = 1
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

# eSpeak keeps global state and is not thread-safe: one synthesis at a time.
_lock = threading.Lock()
_engine = None


class _Engine:
    def __init__(self):
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.rate = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0
        )
        if self.rate <= 0:
            raise RuntimeError("eSpeak NG failed to initialise")
        self.chunks = []
        self.callback = _SYNTH_CALLBACK(self._collect)  # kept on self so it is never collected
        self.lib.espeak_SetSynthCallback(self.callback)

    def _collect(self, samples, count, events):
        if count > 0:
            self.chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0

    def speak(self, text, *, voice, pitch, words_per_minute):
        self.chunks = []
        self.lib.espeak_SetVoiceByName(voice.encode())
        self.lib.espeak_SetParameter(_ESPEAK_PITCH, int(pitch), 0)
        self.lib.espeak_SetParameter(_ESPEAK_RANGE, 40, 0)
        self.lib.espeak_SetParameter(_ESPEAK_RATE, int(words_per_minute), 0)
        data = text.encode("utf-8") + b"\0"
        self.lib.espeak_Synth(data, len(data), 0, 0, 0, _CHARS_UTF8, None, None)
        if not self.chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self.chunks)


def _voice_for(text):
    return "cmn" if any("\u3400" <= ch <= "\u9fff" for ch in text) else "en"


# eSpeak's pitch parameter (0-100) against the median F0 it then produces, measured once with
# `estimate_f0` on "The quick brown fox" (English voice); F0 is interpolated between these points.
_PITCH_TO_HZ = [(0, 64.0), (25, 78.0), (50, 98.0), (75, 128.0), (100, 167.0)]


def pitch_parameter_for(f0):
    """The eSpeak pitch setting nearest a target F0; past the range, the output is shifted instead."""
    params, hz = zip(*_PITCH_TO_HZ, strict=True)
    return float(np.interp(f0, hz, params))


@functools.lru_cache(maxsize=1024)
def _speak_unit(text, *, f0, speed):
    """One unit through eSpeak, its own leading and trailing silence cut off.

    Kept for reuse (about 25 MB at most): eSpeak takes some 3 ms a unit, and long texts and test runs
    say the same words and characters again and again. Read-only, since it is shared.
    """
    global _engine
    with _lock:
        if _engine is None:
            _engine = _Engine()
        raw = _engine.speak(text, voice=_voice_for(text), pitch=pitch_parameter_for(f0), words_per_minute=175 * speed)
        source_rate = _engine.rate
    samples = raw.astype(np.float32) / 32768.0
    # eSpeak's pitch tops out near 170 Hz: raise higher voices by resampling (shorter, higher).
    top = _PITCH_TO_HZ[-1][1]
    shift = f0 / top if f0 > top else 1.0
    samples = _resample(samples, source_rate * shift, OUTPUT_RATE)
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    samples = samples[loud[0] : loud[-1] + 1] if len(loud) else samples[:0]
    samples.setflags(write=False)
    return samples


# A unit is one CJK character or a run of other non-space characters (a word with its punctuation).
_UNIT = re.compile(r"(\s*)([\u3400-\u9fff]|[^\s\u3400-\u9fff]+)")
_SPOKEN = re.compile(r"[\w\u3400-\u9fff]")
_PAUSE_AFTER = tuple(".!?;:,\u3002\uff01\uff1f\uff1b\uff0c\u3001")
LEAD_SECONDS = 0.1


@dataclass
class Unit:
    text: str  # what is said, with the punctuation that follows it
    space_before: str  # the whitespace before it in the text
    start: float = 0.0  # seconds into the speech (after any watermark prefix)
    end: float = 0.0


@dataclass
class Speech:
    samples: np.ndarray  # float32 mono at OUTPUT_RATE
    units: list = field(default_factory=list)
    offset: float = 0.0  # seconds of watermark prefix before the speech

    @property
    def text(self):
        return join_units(self.units)


def split_units(text):
    """The units of `text`; punctuation that is not spoken on its own joins the unit before it."""
    units = []
    for space, token in _UNIT.findall(text):
        if units and not _SPOKEN.search(token):
            units[-1].text += space + token
        else:
            units.append(Unit(token, space))
    return units


def join_units(units):
    return "".join((unit.space_before if index else "") + unit.text for index, unit in enumerate(units))


def mispeak(units, how, rng):
    """The units as spoken with one mistake: a unit dropped, said twice, or two neighbours swapped."""
    units = [Unit(u.text, u.space_before) for u in units]
    if how == "drop" and len(units) > 1:
        units.pop(rng.randrange(len(units)))
    elif how == "repeat" and units:
        at = rng.randrange(len(units))
        units.insert(at + 1, Unit(units[at].text, units[at].space_before or (" " if _is_word(units[at]) else "")))
    elif how == "swap" and len(units) > 1:
        at = rng.randrange(len(units) - 1)
        units[at].text, units[at + 1].text = units[at + 1].text, units[at].text
    return units


def _is_word(unit):
    return not ("\u3400" <= unit.text[0] <= "\u9fff")


def iter_speech(units, *, f0=120.0, speed=1.0, volume=1.0):
    """Speak the units one by one, yielding (samples, unit) as each is made; the unit gets its times."""
    position = LEAD_SECONDS
    yield np.zeros(int(LEAD_SECONDS * OUTPUT_RATE), dtype=np.float32), None
    for unit in units:
        samples = np.clip(_speak_unit(unit.text, f0=f0, speed=speed) * volume, -1.0, 1.0)
        pause = (0.2 if unit.text.endswith(_PAUSE_AFTER) else 0.07 if _is_word(unit) else 0.03) / speed
        unit.start, unit.end = position, position + len(samples) / OUTPUT_RATE
        position = unit.end + pause
        yield np.concatenate([samples, np.zeros(int(pause * OUTPUT_RATE), dtype=np.float32)]), unit
    yield np.zeros(int(LEAD_SECONDS * OUTPUT_RATE), dtype=np.float32), None


def speak(text, *, f0=120.0, speed=1.0, volume=1.0, units=None, watermark=False):
    """Speak `text` (or the given units) at roughly `f0` Hz, with the watermark prefix if asked."""
    units = split_units(text) if units is None else units
    prefix = watermark_prefix() if watermark else np.zeros(0, dtype=np.float32)
    parts = [prefix, *(samples for samples, _ in iter_speech(units, f0=f0, speed=speed, volume=volume))]
    return Speech(np.concatenate(parts).astype(np.float32), units, len(prefix) / OUTPUT_RATE)


def synthesize(text, *, f0=120.0, speed=1.0, volume=1.0):
    """Speak `text` at roughly `f0` Hz; returns float32 mono samples at OUTPUT_RATE, no watermark."""
    return speak(text, f0=f0, speed=speed, volume=volume).samples


# The provider marks generated speech audibly; third-party code reports short tone bursts ("滴滴声") in the
# first ~700 ms of each WAV and finds them as 10 ms frames whose energy is mostly above 2 kHz, then cuts
# the audio after the last such frame. The sandbox imitates that with two 90 ms bursts at 2.6 kHz, then
# silence up to 700 ms, before the speech.
WATERMARK_SECONDS = 0.7
WATERMARK_HZ = 2600.0
WATERMARK_BURSTS = ((0.05, 0.14), (0.24, 0.33))


def watermark_prefix(rate=OUTPUT_RATE):
    prefix = np.zeros(int(WATERMARK_SECONDS * rate), dtype=np.float32)
    for start, end in WATERMARK_BURSTS:
        t = np.arange(int((end - start) * rate)) / rate
        ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)  # 5 ms ramps: a beep, not a click
        at = int(start * rate)
        prefix[at : at + len(t)] = 0.3 * ramp * np.sin(2 * np.pi * WATERMARK_HZ * t)
    return prefix


def watermark_present(samples, rate):
    """Whether the first 700 ms hold the sandbox's tone bursts: 10 ms frames whose energy is nearly all
    at the tone's pitch (speech, even a hissing consonant, spreads its energy wider)."""
    frame = int(0.01 * rate)
    freqs = np.fft.rfftfreq(frame, 1 / rate)
    band = np.abs(freqs - WATERMARK_HZ) <= 200
    hits = 0
    for start in range(0, min(len(samples), int(WATERMARK_SECONDS * rate)) - frame, frame):
        spectrum = np.abs(np.fft.rfft(samples[start : start + frame])) ** 2
        total = spectrum.sum()
        if total > 1e-4 and spectrum[band].sum() / total > 0.8:
            hits += 1
    return hits >= 10


def _resample(samples, source_rate, target_rate):
    if len(samples) == 0:
        return samples
    duration = len(samples) / source_rate
    target = np.arange(int(duration * target_rate)) / target_rate
    return np.interp(target, np.arange(len(samples)) / source_rate, samples).astype(np.float32)


def to_wav(samples, rate=OUTPUT_RATE):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(to_pcm(samples))
    return buffer.getvalue()


def to_pcm(samples):
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def decode(data, rate=16000):
    """Any audio PyAV reads, as float32 mono at `rate`."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    chunks = []
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def wav_seconds(data):
    """The length a plain PCM WAV's header declares, in seconds; None for anything else."""
    try:
        with wave.open(io.BytesIO(data)) as audio:
            return audio.getnframes() / audio.getframerate() if audio.getnframes() else None
    except (wave.Error, EOFError):
        return None


def estimate_f0(samples, rate=16000, low=60.0, high=400.0):
    """Median F0 of the voiced frames, by normalized autocorrelation; None if nothing is voiced."""
    frame, hop = int(0.04 * rate), int(0.02 * rate)
    lags = np.arange(int(rate / high), int(rate / low) + 1)
    level = np.sqrt(np.mean(samples**2)) if len(samples) else 0
    estimates = []
    for start in range(0, len(samples) - frame - lags[-1], hop):
        chunk = samples[start : start + frame + lags[-1]]
        head = chunk[:frame]
        energy = np.dot(head, head)
        if energy < frame * (0.3 * level) ** 2:
            continue  # too quiet to be voiced
        # Every lagged window at once (a view, no copy): one matrix product instead of a loop per lag.
        windows = np.lib.stride_tricks.sliding_window_view(chunk, frame)[lags]
        corr = windows @ head
        norms = np.sqrt(energy * np.einsum("ij,ij->i", windows, windows))
        corr = corr / np.maximum(norms, 1e-12)
        peak = corr.max()
        if peak > 0.6:
            # The first lag near the peak is the period; later ones are its multiples (octave errors).
            best = int(np.argmax(corr >= 0.9 * peak))
            while best + 1 < len(corr) and corr[best + 1] > corr[best]:
                best += 1
            estimates.append(rate / lags[best])
    return float(np.median(estimates)) if estimates else None
