"""Several recordings into one sample: each through the intake, then the best speech of all joined.

Every file goes through clones' own intake (format checks, decoding, the 30 s window with the most speech,
loudness, the quality report), so a bad file is refused with the intake's words, named. From the files
that pass, speech stretches are taken best file first (by the report's verdict, then signal to noise), in
their own order, and joined with short pauses until the sample holds 30 s. The joined audio goes through
the intake once more, so the provider gets a normalized WAV and the page a report measured on the result.
"""

import io
import wave
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _

from clones.audio import AudioError
from clones.intake import SAMPLE_RATE, PreparedSample, prepare_sample

MAX_FILES = 5
PAUSE_SECONDS = 0.35  # between stretches: a breath, as between sentences
FRAME_SECONDS = 0.03
MERGE_GAP_SECONDS = 0.4  # speech interrupted by less than this is one stretch
EDGE_SECONDS = 0.08  # kept around a stretch, so words are not clipped
MIN_STRETCH_SECONDS = 0.6
WINDOW_SLACK_SECONDS = 0.05  # a window dragged to a file's very end may round past it
VERDICT_RANK = {"good": 2, "fair": 1, "poor": 0}


class AssemblyError(ValueError):
    """A file (named in the message) or the set of files cannot make a sample."""


@dataclass
class Part:
    name: str
    prepared: PreparedSample
    samples: np.ndarray  # float32 mono at SAMPLE_RATE, the intake's normalized window
    speech: list  # [(start, end)] in seconds: the speech stretches found in it
    stretches: list = field(default_factory=list)  # [{"start", "end", "at"}]: what the joined sample kept

    @property
    def duration(self):
        return round(len(self.samples) / SAMPLE_RATE, 2)

    @property
    def rank(self):
        report = self.prepared.report
        return (VERDICT_RANK.get(report["verdict"], 0), report["snr_db"])


@dataclass
class Assembly:
    parts: list
    prepared: PreparedSample  # the joined sample, normalized and measured again (and cleaned, if asked)
    before_cleanup: PreparedSample | None = None  # the joined sample as it was, when noise was reduced

    def segments(self):
        """Every kept stretch in the order it plays in the joined sample."""
        rows = [
            {"file": index, "name": part.name, **stretch, "duration": round(stretch["end"] - stretch["start"], 2)}
            for index, part in enumerate(self.parts)
            for stretch in part.stretches
        ]
        return sorted(rows, key=lambda row: row["at"])


def samples_of(wav_bytes):
    """A 16-bit mono WAV (as the intake writes them) as float32 samples."""
    with wave.open(io.BytesIO(wav_bytes)) as audio:
        pcm = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def speech_stretches(samples, rate=SAMPLE_RATE):
    """[(start, end)] seconds of speech, by frame energy above the recording's own noise floor."""
    frame = int(rate * FRAME_SECONDS)
    whole = len(samples) - len(samples) % frame
    if whole == 0:
        return []
    frames = samples[:whole].reshape(-1, frame)
    db = 10 * np.log10(np.maximum(np.einsum("ij,ij->i", frames, frames) / frame, 1e-10))
    floor, loud = float(np.percentile(db, 10)), float(np.percentile(db, 95))
    voiced = db > max(min(floor + 10, loud - 6), -60.0)  # the intake's rule for a speech frame
    stretches = []
    for index in np.flatnonzero(voiced):
        start, end = index * FRAME_SECONDS, (index + 1) * FRAME_SECONDS
        if stretches and start - stretches[-1][1] < MERGE_GAP_SECONDS:
            stretches[-1][1] = end
        else:
            stretches.append([start, end])
    duration = len(samples) / rate
    return [
        (round(float(max(0.0, a - EDGE_SECONDS)), 2), round(float(min(duration, b + EDGE_SECONDS)), 2))
        for a, b in stretches
        if b - a >= MIN_STRETCH_SECONDS
    ]


def take_in(named_files):
    """Each (name, file) through the intake, as Parts; AssemblyError names the first file refused."""
    if not named_files:
        raise AssemblyError(_("Choose at least one recording."))
    if len(named_files) > MAX_FILES:
        raise AssemblyError(_("Use at most %(count)d recordings for one sample.") % {"count": MAX_FILES})
    parts = []
    for name, fileobj in named_files:
        try:
            prepared = prepare_sample(fileobj)
        except AudioError as exc:
            raise AssemblyError(_("“%(name)s”: %(reason)s") % {"name": name, "reason": exc}) from exc
        samples = samples_of(prepared.wav)
        parts.append(Part(name=name, prepared=prepared, samples=samples, speech=speech_stretches(samples)))
    return parts


def check_windows(parts, windows):
    """Refuse, naming the file, a kept window that is not within its recording or is shorter than a sample."""
    minimum = settings.SAMPLE_MIN_SECONDS
    for index, (start, end) in sorted(windows.items()):
        if not 0 <= index < len(parts):
            raise AssemblyError(
                _("There is no recording number %(number)d to keep a window of.") % {"number": index + 1}
            )
        part = parts[index]
        if start < 0 or end > part.duration + WINDOW_SLACK_SECONDS or start >= end:
            raise AssemblyError(
                _("“%(name)s”: the kept window must lie within its %(duration).1f s.")
                % {"name": part.name, "duration": part.duration}
            )
        if end - start < minimum - WINDOW_SLACK_SECONDS:
            raise AssemblyError(
                _("“%(name)s”: the kept window must be at least %(minimum)d s long, as a sample must.")
                % {"name": part.name, "minimum": minimum}
            )


def _within(speech, window):
    """The speech stretches clipped to the owner's window (start, end); None keeps them all."""
    if window is None:
        return speech
    low, high = window
    clipped = [(max(start, low), min(end, high)) for start, end in speech]
    return [(round(start, 2), round(end, 2)) for start, end in clipped if end - start >= MIN_STRETCH_SECONDS]


def choose(parts, *, skip=(), used=(), turn=1, windows=None):
    """Mark on each part the stretches the joined sample keeps; returns them in playing order.

    Files in `skip` (indexes) are left out by the owner's choice, and of a file with a window in
    `windows` ({index: (start, end)} seconds, the owner's drag) only the speech inside it is kept.
    `used` lists (file, start) of the stretches an earlier take played, in its order: a sibling take
    plays the others first, then those from the `turn`-th on, so it does not open with the same speech.
    """
    limit = settings.SAMPLE_MAX_SECONDS
    windows = windows or {}
    for part in parts:
        part.stretches = []
    order = sorted((i for i in range(len(parts)) if i not in skip), key=lambda i: parts[i].rank, reverse=True)
    candidates = [(i, start, end) for i in order for start, end in _within(parts[i].speech, windows.get(i))]
    if not candidates:
        raise AssemblyError(_("No speech was found in the chosen recordings."))
    if used:

        def position(candidate):
            for number, (file, start) in enumerate(used):
                if file == candidate[0] and abs(start - candidate[1]) < 0.2:
                    return number
            return None

        fresh = [c for c in candidates if position(c) is None]
        again = sorted((c for c in candidates if position(c) is not None), key=position)
        turn %= max(len(again), 1)
        candidates = fresh + again[turn:] + again[:turn]
    at, chosen = 0.0, []
    for index, start, end in candidates:
        room = limit - at - (PAUSE_SECONDS if chosen else 0.0)
        if room < MIN_STRETCH_SECONDS:
            break
        if chosen:
            at += PAUSE_SECONDS
        end = min(end, start + room)
        stretch = {"start": start, "end": round(end, 2), "at": round(at, 2)}
        parts[index].stretches.append(stretch)
        chosen.append((index, stretch))
        at += end - start
    return chosen


def join(parts, chosen):
    """The chosen stretches as one float32 signal with short pauses between them."""
    pause = np.zeros(int(PAUSE_SECONDS * SAMPLE_RATE), dtype=np.float32)
    total = sum(int(round((s["end"] - s["start"]) * SAMPLE_RATE)) for _, s in chosen) + len(pause) * len(chosen)
    joined = np.zeros(total, dtype=np.float32)
    position = 0
    for number, (index, stretch) in enumerate(chosen):
        if number:
            position = int(round(stretch["at"] * SAMPLE_RATE))
        start, end = int(round(stretch["start"] * SAMPLE_RATE)), int(round(stretch["end"] * SAMPLE_RATE))
        piece = parts[index].samples[start:end]
        # A 10 ms fade at both ends, so joins do not click.
        fade = min(int(0.01 * SAMPLE_RATE), len(piece) // 2)
        piece = piece.copy()
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            piece[:fade] *= ramp
            piece[-fade:] *= ramp[::-1]
        joined[position : position + len(piece)] = piece
        position += len(piece)
    return joined[:position]


def to_wav(samples):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(np.rint(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def assemble(parts, *, skip=(), used=(), turn=1, windows=None):
    """The parts' best speech joined into one sample, measured again by the intake."""
    if windows:
        check_windows(parts, windows)
    chosen = choose(parts, skip=skip, used=used, turn=turn, windows=windows)
    joined = to_wav(join(parts, chosen))
    try:
        prepared = prepare_sample(io.BytesIO(joined))
    except AudioError as exc:
        raise AssemblyError(_("The joined sample cannot be used: %(reason)s") % {"reason": exc}) from exc
    return Assembly(parts=parts, prepared=prepared)
