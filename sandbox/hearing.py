"""How the sandbox "hears": it recognises the speech it made itself, and gives back the words it said.

The sandbox has no speech recognition. Instead, every utterance it speaks is remembered by its loudness
envelope (RMS of 10 ms frames at 16 kHz) together with the time span of each unit it said. Audio sent to
/audio/transcriptions is reduced to the same envelope and searched for remembered utterances by
normalized cross-correlation. The envelope is the marker: it is the speech itself, so it survives what the
app does to takes (trimming, joining parts, gain and loudness normalization, resampling, MP3 or other
lossy transcoding), where a RIFF chunk would be lost at the first re-encode and a hidden watermark would
need a decoder as large as this module. Where only part of an utterance is present (a take cut into
30 s pieces) only the units inside the piece are given back; joined utterances come back in order.
The sandbox keeps the last REMEMBERED utterances, on disk as well as in memory.

Audio the sandbox did not make (a recording, eSpeak speech made by a test) is not recognised: it is
answered with `FOREIGN_TRANSCRIPT` when it holds sound, and an empty text when it is silent. Real
recognition needs the real service.
"""

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000
FRAME = RATE // 100  # 10 ms
# Cosine similarity of two envelopes over their overlap. The same utterance after MP3 at 64 kbit/s,
# resampling and a gain change scores above 0.999; different eSpeak sentences, at their best placement, below 0.9.
MATCH = 0.97
# A piece must hold at least this share of an utterance's energy, and this many frames, to count.
MIN_SHARE = 0.15
MIN_FRAMES = 25
SILENT_RMS = 1e-3
REMEMBERED = 5000  # utterances kept; the oldest are forgotten first
FOREIGN_TRANSCRIPT = "这是一段用于音色复刻的示例音频。"


def envelope(samples):
    """RMS of each 10 ms frame of float samples at 16 kHz."""
    count = len(samples) // FRAME
    if count == 0:
        return np.zeros(0, dtype=np.float64)
    frames = np.asarray(samples[: count * FRAME], dtype=np.float64).reshape(count, FRAME)
    return np.sqrt(np.mean(frames**2, axis=1))


@dataclass
class Utterance:
    text: str  # the whole text as spoken
    units: list  # (first frame, end frame, unit text, whitespace before) in envelope frames
    env: np.ndarray

    def words_between(self, start, end):
        """The text of the units that lie mostly within frames [start, end) of this utterance."""
        inside = [u for u in self.units if min(u[1], end) - max(u[0], start) >= 0.5 * (u[1] - u[0])]
        if len(inside) == len(self.units):
            return self.text
        return "".join((space if index else "") + text for index, (_, _, text, space) in enumerate(inside))


class Ear:
    """What the sandbox has said. With a `directory`, each utterance is also kept on disk (a small JSON
    file: the envelope is 100 numbers a second), so a restarted sandbox still hears what it said before."""

    def __init__(self, directory=None):
        self.lock = threading.Lock()
        self.utterances = {}  # envelope digest -> Utterance, oldest first
        self.directory = Path(directory) if directory else None
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)
            for path in sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime)[-REMEMBERED:]:
                saved = json.loads(path.read_text())
                units = [tuple(unit) for unit in saved["units"]]
                self.utterances[path.stem] = Utterance(saved["text"], units, np.array(saved["env"]))

    def remember(self, speech, samples16k):
        """Remember a `sandbox.voice.Speech`, given its samples at 16 kHz."""
        env = envelope(samples16k)
        if not speech.units:
            return
        first = int(speech.units[0].start * 100 + speech.offset * 100)
        last = int(np.ceil(speech.units[-1].end * 100 + speech.offset * 100))
        env = env[first:last]
        units = [
            (
                int((u.start + speech.offset) * 100) - first,
                int((u.end + speech.offset) * 100) - first,
                u.text,
                u.space_before,
            )
            for u in speech.units
        ]
        key = hashlib.sha256(env.tobytes() + speech.text.encode()).hexdigest()
        with self.lock:
            self.utterances.pop(key, None)
            self.utterances[key] = Utterance(speech.text, units, env)
            while len(self.utterances) > REMEMBERED:
                self._drop(next(iter(self.utterances)))
            if self.directory:
                saved = {"text": speech.text, "units": units, "env": np.round(env, 6).tolist()}
                (self.directory / f"{key}.json").write_text(json.dumps(saved, ensure_ascii=False))

    def _drop(self, key):
        self.utterances.pop(key)
        if self.directory:
            (self.directory / f"{key}.json").unlink(missing_ok=True)

    def forget(self):
        with self.lock:
            for key in list(self.utterances):
                self._drop(key)

    def hear(self, samples16k):
        """The text of the remembered speech found in the audio, in order; None if none is found."""
        x = envelope(samples16k)
        with self.lock:
            candidates = list(self.utterances.values())
        found = []  # (position in x, text)
        for _ in range(64):  # each round takes the best match, then blanks its frames
            best = None
            survivors = []
            for utterance in candidates:
                match = _best_offset(x, utterance.env)
                if match is None:
                    continue
                survivors.append(utterance)
                if best is None or match[0] > best[0]:
                    best = (*match, utterance)
            if best is None:
                break
            _, offset, utterance = best
            start, end = max(0, offset), min(len(x), offset + len(utterance.env))
            text = utterance.words_between(start - offset, end - offset)
            if text:
                found.append((start, text))
            x = x.copy()
            x[start:end] = 0
            candidates = survivors
        if not found:
            return None
        found.sort()
        return " ".join(text for _, text in found) if _spaced(found) else "".join(text for _, text in found)


def _spaced(found):
    # English pieces are joined with a space, Chinese ones without.
    return any(ch.isascii() and ch.isalpha() for _, text in found for ch in text)


def _best_offset(x, e):
    """(score, offset) of the best placement of envelope `e` within `x`, or None below the threshold."""
    n, m = len(x), len(e)
    if n == 0 or m == 0:
        return None
    size = 1 << int(np.ceil(np.log2(n + m)))
    # corr[k] for offset o = k - (m - 1): sum over t of x[t + o] * e[t].
    corr = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(e[::-1], size), size)[: n + m - 1]
    offsets = np.arange(n + m - 1) - (m - 1)
    # Energy of the overlap on each side, from cumulative sums.
    cx = np.concatenate([[0.0], np.cumsum(x**2)])
    ce = np.concatenate([[0.0], np.cumsum(e**2)])
    x_lo, x_hi = np.clip(offsets, 0, n), np.clip(offsets + m, 0, n)
    e_lo, e_hi = x_lo - offsets, x_hi - offsets
    energy_x = cx[x_hi] - cx[x_lo]
    energy_e = ce[e_hi] - ce[e_lo]
    frames = x_hi - x_lo
    valid = (frames >= min(MIN_FRAMES, m)) & (energy_e >= MIN_SHARE * ce[-1]) & (energy_x > SILENT_RMS**2)
    if not valid.any():
        return None
    score = np.where(valid, corr / np.sqrt(np.maximum(energy_x * energy_e, 1e-18)), -1.0)
    k = int(np.argmax(score))
    if score[k] < MATCH:
        return None
    return float(score[k]), int(offsets[k])


def is_silent(samples16k):
    return len(samples16k) == 0 or float(np.sqrt(np.mean(np.asarray(samples16k, dtype=np.float64) ** 2))) < SILENT_RMS
