"""Real audio for the sandbox: eSpeak NG speaks the text, pitched toward the sample's voice."""

import ctypes
import io
import threading
import wave

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


def synthesize(text, *, f0=120.0, speed=1.0, volume=1.0):
    """Speak `text` at roughly `f0` Hz; returns float32 mono samples at OUTPUT_RATE."""
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
    return np.clip(samples * volume, -1.0, 1.0)


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
