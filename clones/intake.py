"""Sample intake: what a person uploads is, by its content, never by its name.

`prepare_sample` turns whatever a person uploads into the sample we send the provider: a loudness-
normalized 16-bit mono WAV of at most 30 s, with a quality report, or an AudioError that says exactly
why not. It streams: memory stays bounded by the 30 s it keeps, whatever the file declares or holds.
"""

import functools
import io
import math
import struct
import time
from dataclasses import dataclass, field

import av
import numpy as np
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from clones.audio import AudioError, clock, open_container, peak_level, peaks, wav_bytes

# Samples are stored at 24 kHz: the provider's own speech comes at 24 kHz, it keeps the whole speech
# band (up to 12 kHz, where sibilants live), and 30 s of it is a 1.4 MB WAV, far under the 10 MB limit.
SAMPLE_RATE = 24000
# Analysis frames for voice activity, noise floor and window choice.
FRAME_SECONDS = 0.03
FRAME = int(SAMPLE_RATE * FRAME_SECONDS)
TARGET_LUFS = -20.0  # where speech for cloning sits comfortably: clear, with room under the peak ceiling
PEAK_CEILING_DBFS = -1.0  # never pushed closer to full scale than this by normalization
CLIP_LEVEL = 0.99
SILENT_PEAK_DBFS = -70.0
NEARLY_SILENT_LUFS = -55.0
# Guards against files that would cost us too much: decoded length and wall time of decoding.
MAX_INPUT_SECONDS = 20 * 60
MAX_DECODE_SECONDS = 30.0
MAX_CHANNELS = 32
RATE_RANGE = (1000, 768000)


# What the file picker offers; the content decides, whatever a file is called.
ACCEPT = "audio/*,video/mp4,video/webm,.wav,.mp3,.m4a,.aac,.ogg,.oga,.opus,.webm,.flac,.mp4,.aif,.aiff"


# -- what the bytes are, before FFmpeg sees them ------------------------------------------------------
# FFmpeg would guess among hundreds of demuxers (some of which follow references to other files);
# we recognise the formats we accept by their magic bytes and name the demuxer ourselves.


def _id3_length(head):
    if head[:3] != b"ID3" or len(head) < 10:
        return 0
    size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
    return 10 + size + (10 if head[5] & 0x10 else 0)


def _demuxer_for(head):
    """(FFmpeg demuxer, our format name) for bytes we accept, else None."""
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav", "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff", "aiff"
    if head[:4] == b"fLaC":
        return "flac", "flac"
    if head[:4] == b"OggS":
        return "ogg", "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska", "webm"
    if head[4:8] == b"ftyp":
        return "mov", "m4a"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "aac", "aac"  # ADTS: a sync word with layer bits 00
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "mp3", "mp3"
    return None


def _looks_like_text(head):
    if head[:4] == b"RIFF":
        head = head[12:]  # a web page or text dressed up with a RIFF header
    head = head[:2048]
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    return all(ch.isprintable() or ch in "\t\n\r\f" for ch in text)


def _looks_like_image(head):
    return (
        head[:8] == b"\x89PNG\r\n\x1a\n"
        or head[:3] == b"\xff\xd8\xff"
        or head[:6] in (b"GIF87a", b"GIF89a")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or head[4:12] in (b"ftypavif", b"ftypheic")
    )


def _unreadable(head):
    if _looks_like_image(head):
        return AudioError(_("This is an image, not an audio recording."))
    if _looks_like_text(head):
        return AudioError(_("This is a text file or web page, not an audio recording."))
    return AudioError(_("This file is not audio we can read, or it is damaged."))


# -- WAV headers: FFmpeg quietly clamps sizes to the file, so a lying header would go unnoticed ----------


@dataclass
class _WavHeader:
    channels: int = 0
    rate: int = 0
    block_align: int = 0
    data_size: int | None = None  # None: unknown (a streamed WAV); else as declared
    data_present: int = 0


def _wav_header(fileobj, size):
    fileobj.seek(0)
    riff = fileobj.read(12)
    header = _WavHeader()
    riff_size = struct.unpack("<I", riff[4:8])[0]
    if riff[:4] == b"RIFF" and riff_size not in (0, 0xFFFFFFFF) and riff_size > settings.SAMPLE_MAX_BYTES:
        raise _absurd(riff_size, size)
    position = 12
    for _chunk in range(64):  # real files have a handful of chunks before the data; don't walk thousands
        if position + 8 > size:
            break
        fileobj.seek(position)
        chunk_id, chunk_size = struct.unpack("<4sI", fileobj.read(8))
        if chunk_id == b"fmt ":
            fmt = fileobj.read(16)
            if len(fmt) < 16:
                break
            _, header.channels, header.rate, _, header.block_align, _ = struct.unpack("<HHIIHH", fmt)
        elif chunk_id == b"data":
            header.data_present = size - position - 8
            if chunk_size not in (0, 0xFFFFFFFF):
                header.data_size = chunk_size
            break
        position += 8 + chunk_size + (chunk_size & 1)
    return header


def _absurd(declared_bytes, size):
    return AudioError(
        _("The file's header claims %(declared)s of audio in a file of %(size)s: it is damaged or not a recording.")
        % {"declared": filesizeformat(declared_bytes), "size": filesizeformat(size)}
    )


def _check_wav_header(header, size):
    if header.data_size is None:
        return
    if header.data_size > settings.SAMPLE_MAX_BYTES:
        raise _absurd(header.data_size, size)
    if header.data_size > header.data_present + max(header.block_align, 1) and header.rate and header.block_align:
        per_second = header.rate * header.block_align
        raise _truncated(header.data_size / per_second, header.data_present / per_second)


def _truncated(declared, actual):
    return AudioError(
        _("The file is cut short: its header promises %(declared).1f s of audio, but only %(actual).1f s is there.")
        % {"declared": declared, "actual": math.floor(actual * 10) / 10}
    )


# -- decoding, streamed ----------------------------------------------------------------------------------


@dataclass
class _Decoded:
    format: str
    sample_rate: int
    channels: int
    samples: int = 0  # at SAMPLE_RATE, over the whole file
    frame_db: list = field(default_factory=list)  # per analysis frame, over the whole file
    kept: np.ndarray | None = None  # mono float32 at SAMPLE_RATE, the window asked for
    declared_seconds: float | None = None

    @property
    def duration(self):
        return self.samples / SAMPLE_RATE


def _frame_db(samples):
    frames = samples.reshape(-1, FRAME)
    power = np.einsum("ij,ij->i", frames, frames) / FRAME  # no squared copy of the samples
    return 10 * np.log10(np.maximum(power.astype(np.float64), 1e-10))


def _decode(fileobj, demuxer, format_name, *, keep_from, keep_samples):
    """Decode the first audio stream frame by frame into mono at SAMPLE_RATE.

    Energies of every analysis frame are kept for the whole file (a few floats a second); the samples
    themselves only for the window [keep_from, keep_from + keep_samples).
    """
    deadline = time.monotonic() + MAX_DECODE_SECONDS
    fileobj.seek(0)
    with open_container(fileobj, demuxer) as container:
        if not container.streams.audio:
            if container.streams.video:
                raise AudioError(_("This video has no audio track."))
            raise AudioError(_("This file has no audio track."))
        stream = container.streams.audio[0]
        context = stream.codec_context
        rate, channels = context.sample_rate or stream.sample_rate or 0, context.channels or 0
        if not (RATE_RANGE[0] <= rate <= RATE_RANGE[1]) or not 0 < channels <= MAX_CHANNELS:
            raise AudioError(
                _("The file's header declares %(channels)d channels at %(rate)d Hz, which is not a real recording.")
                % {"channels": channels, "rate": rate}
            )
        if format_name == "m4a" and container.streams.video:
            format_name = "mp4"
        if format_name == "ogg" and context.name == "opus":
            format_name = "opus"
        decoded = _Decoded(format_name, rate, channels)
        if container.duration:
            decoded.declared_seconds = container.duration / av.time_base
        # Rate only: channels are averaged below, so the downmix is the same whatever the layout.
        # In blocks of about a second: the per-block work below costs the same for 1,000 samples or 24,000.
        resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE, frame_size=SAMPLE_RATE)
        pending = np.zeros(0, dtype=np.float32)  # samples not yet making a whole analysis frame
        kept = np.empty(keep_samples, dtype=np.float32)  # filled in place: no list of pieces to join
        keep_to = keep_from + keep_samples

        def take(mono):
            nonlocal pending
            start = decoded.samples
            decoded.samples += len(mono)
            if start < keep_to and decoded.samples > keep_from:
                piece = mono[max(0, keep_from - start) : keep_to - start]
                at = max(0, start - keep_from)
                kept[at : at + len(piece)] = piece
            pending = np.concatenate([pending, mono])
            whole = len(pending) - len(pending) % FRAME
            if whole:
                decoded.frame_db.extend(_frame_db(pending[:whole]).tolist())
                pending = pending[whole:]

        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    take(out.to_ndarray().mean(axis=0, dtype=np.float32))
                if decoded.samples > MAX_INPUT_SECONDS * SAMPLE_RATE:
                    raise AudioError(
                        _("The recording is longer than %(minutes)d minutes; please upload a shorter one.")
                        % {"minutes": MAX_INPUT_SECONDS // 60}
                    )
                if time.monotonic() > deadline:
                    raise AudioError(_("This file takes too long to decode; please upload a shorter or simpler one."))
        except (av.FFmpegError, EOFError) as exc:
            for out in resampler.resample(None):  # what the resampler still holds was decoded too
                take(out.to_ndarray().mean(axis=0, dtype=np.float32))
            if decoded.samples and decoded.declared_seconds:
                raise _truncated(decoded.declared_seconds, decoded.duration) from exc  # sound, then broken bytes
            raise
        for out in resampler.resample(None):
            take(out.to_ndarray().mean(axis=0, dtype=np.float32))
    decoded.kept = kept[: max(0, min(decoded.samples, keep_to) - keep_from)]
    return decoded


# -- analysis ----------------------------------------------------------------------------------------------


def _speech_threshold(frame_db):
    """A frame is speech when clearly above the noise floor (energy VAD; enough for advice and trimming)."""
    floor = float(np.percentile(frame_db, 10))
    loud = float(np.percentile(frame_db, 95))
    return max(min(floor + 10, loud - 6), -60.0), floor


def _best_window(frame_db, window_frames):
    """Index of the first frame of the window with the most speech (the earliest among equals)."""
    frame_db = np.asarray(frame_db)
    if len(frame_db) <= window_frames:
        return 0
    threshold, _ = _speech_threshold(frame_db)
    speech = np.concatenate([[0], np.cumsum(frame_db > threshold)])
    counts = speech[window_frames:] - speech[:-window_frames]
    return int(np.argmax(counts))


@functools.cache
def _k_weighting(rate):
    """pyloudnorm's two K-weighting stages (high shelf, high pass) as one cascade of second-order
    sections, their passband gains folded in: one filter call a second of audio instead of two, and a
    third less CPU for the studio, which measures every take."""
    import pyloudnorm

    sections = []
    for stage in pyloudnorm.Meter(rate)._filters.values():
        b, a = np.asarray(stage.b, dtype=np.float64), np.asarray(stage.a, dtype=np.float64)
        sections.append(np.concatenate([b * stage.passband_gain / a[0], a / a[0]]))
    return np.vstack(sections)


def integrated_loudness(samples, rate=SAMPLE_RATE):
    """ITU-R BS.1770 integrated loudness of mono samples, in LUFS (-inf for silence).

    pyloudnorm's K-weighting filters and its gating, but filtered a second at a time: Meter's own
    integrated_loudness holds several float64 copies of the signal (14 MB for our 30 s), which would
    break the web process's memory budget. tests/test_audio_intake.py checks both agree.
    """
    # Imported here: scipy takes seconds to import, and most requests (and the /health/ check) never measure.
    import scipy.signal

    sos = _k_weighting(rate)
    state = np.zeros((len(sos), 2))
    hop, block = int(round(0.1 * rate)), int(round(0.4 * rate))  # 400 ms blocks overlapping by 75 %
    energies = []  # sum of squares of each 100 ms hop
    for start in range(0, len(samples), 10 * hop):
        chunk, state = scipy.signal.sosfilt(sos, samples[start : start + 10 * hop].astype(np.float64), zi=state)
        whole = len(chunk) - len(chunk) % hop
        energies.extend(np.einsum("ij,ij->i", chunk[:whole].reshape(-1, hop), chunk[:whole].reshape(-1, hop)))
        if whole < len(chunk):
            energies.append(float(np.dot(chunk[whole:], chunk[whole:])))
    count = int(np.round((len(samples) / rate - 0.4) / 0.1)) + 1
    hops = np.concatenate([energies, np.zeros(4)])
    z = np.convolve(hops, np.ones(4), mode="valid")[: max(count, 0)] / block  # each block: 4 hops
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(z)
    gated = z[levels >= -70.0]
    if not len(gated):
        return -math.inf
    relative = -0.691 + 10 * math.log10(gated.mean()) - 10
    gated = z[(levels > relative) & (levels > -70.0)]
    return -0.691 + 10 * math.log10(gated.mean()) if len(gated) else -math.inf


def _clipped(samples):
    return int(np.count_nonzero(samples >= CLIP_LEVEL)) + int(np.count_nonzero(samples <= -CLIP_LEVEL))


def _dbfs(value):
    return round(max(20 * math.log10(value), -100.0), 1) if value > 0 else -100.0


def _report(decoded, kept_start, kept):
    whole = len(kept) - len(kept) % FRAME
    frame_db = _frame_db(kept[:whole]) if whole else np.array([-100.0])
    threshold, floor = _speech_threshold(frame_db)
    speech = frame_db[frame_db > threshold]
    peak = peak_level(kept)
    loudness = integrated_loudness(kept)
    report = {
        "format": decoded.format,
        "duration": round(decoded.duration, 2),
        "sample_rate": decoded.sample_rate,
        "channels": decoded.channels,
        "kept_start": round(kept_start, 2),
        "kept_duration": round(len(kept) / SAMPLE_RATE, 2),
        "trimmed": len(kept) < decoded.samples,
        "speech_duration": round(len(speech) * FRAME_SECONDS, 1),
        "loudness_lufs": round(max(loudness, -100.0), 1) if math.isfinite(loudness) else -100.0,
        "peak_dbfs": _dbfs(peak),
        "clipping_percent": round(100 * _clipped(kept) / len(kept), 2) if len(kept) else 0.0,
        "noise_floor_dbfs": round(max(floor, -100.0), 1),
        "snr_db": round(float(np.median(speech)) - floor, 1) if len(speech) else 0.0,
    }
    report["advice"] = _advice(report)
    levels = {a["level"] for a in report["advice"]}
    report["verdict"] = "poor" if "error" in levels else "fair" if "warning" in levels else "good"
    return report


def _advice(report):
    advice = []

    def add(code, level):
        advice.append({"code": code, "level": level})

    if report["clipping_percent"] >= 0.1:
        add("clipped", "error" if report["clipping_percent"] >= 1 else "warning")
    elif report["loudness_lufs"] > -12:
        add("too_loud", "warning")
    if report["loudness_lufs"] < -35:
        add("too_quiet", "warning")
    if report["snr_db"] < 20:
        add("background_noise", "error" if report["snr_db"] < 10 else "warning")
    if report["speech_duration"] < 5:
        add("too_short_speech", "error" if report["speech_duration"] < settings.SAMPLE_MIN_SECONDS else "warning")
    elif report["speech_duration"] < 0.5 * report["kept_duration"]:
        add("little_speech", "warning")
    if report["trimmed"]:
        add("trimmed", "info")
    if not any(a["level"] != "info" for a in advice):
        add("good", "info")
    return advice


def advice_messages(report):
    """The report's advice in the user's language, as [{"code", "level", "message"}]."""
    r = report
    messages = {
        "clipped": gettext(
            "%(percent)s%% of the sample is clipped (distorted by being too loud): record again a little "
            "further from the microphone or with less gain."
        )
        % {"percent": f"{r['clipping_percent']:g}"},
        "too_loud": gettext("The sample is very loud; if it sounds distorted, record again with less gain."),
        "too_quiet": gettext(
            "The sample is too quiet (%(lufs).0f LUFS): we raised its level, but any noise rose with it. "
            "Record closer to the microphone if you can."
        )
        % {"lufs": r["loudness_lufs"]},
        "background_noise": gettext(
            "There is background noise (the voice is only %(snr).0f dB above it): a quiet room and a closer "
            "microphone give a cleaner clone."
        )
        % {"snr": r["snr_db"]},
        "too_short_speech": ngettext(
            "Only about %(seconds)d second of speech: 10 to 30 s of speech gives a closer likeness.",
            "Only about %(seconds)d seconds of speech: 10 to 30 s of speech gives a closer likeness.",
            int(r["speech_duration"]),
        )
        % {"seconds": int(r["speech_duration"])},
        "little_speech": gettext(
            "Much of the sample is silence or noise (%(speech).0f s of speech in %(total).0f s): trim the pauses "
            "or record more speech."
        )
        % {"speech": r["speech_duration"], "total": r["kept_duration"]},
        "trimmed": gettext(
            "The recording is %(duration)s long; we keep the best %(kept).0f s of speech, from %(start)s."
        )
        % {"duration": clock(r["duration"]), "kept": r["kept_duration"], "start": clock(r["kept_start"])},
        "good": gettext("Clear speech at a good level: a good sample for cloning."),
    }
    return [{**a, "message": messages.get(a["code"], a["code"])} for a in r.get("advice", [])]


# -- the whole intake ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedSample:
    wav: bytes  # 16-bit mono PCM at SAMPLE_RATE, loudness-normalized, at most SAMPLE_MAX_SECONDS
    report: dict
    peaks: list

    @property
    def format(self):
        """What the original upload is, as a file extension."""
        return self.report["format"]

    @property
    def duration(self):
        return self.report["kept_duration"]


def _size(fileobj):
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    return size


def _head(fileobj, size):
    fileobj.seek(0)
    head = fileobj.read(4096)
    skip = _id3_length(head)
    if skip:  # an ID3 tag (often with cover art) before MP3, AAC or FLAC: look at what follows it
        if skip >= size:
            return head, None
        fileobj.seek(skip)
        return head, fileobj.read(64)
    return head, head


def prepare_sample(fileobj):
    """Any audio we accept, as the sample we upload plus its quality report; AudioError says why not."""
    size = _size(fileobj)
    if size == 0:
        raise AudioError(_("The file is empty."))
    if size > settings.SAMPLE_MAX_BYTES:
        raise AudioError(upload_too_large_message())
    head, body = _head(fileobj, size)
    if _looks_like_image(head):
        raise _unreadable(head)
    known = _demuxer_for(body) if body else None
    if known is None:
        raise _unreadable(head)
    demuxer, format_name = known
    max_samples = int(settings.SAMPLE_MAX_SECONDS * SAMPLE_RATE)
    try:
        if demuxer == "wav":
            _check_wav_header(_wav_header(fileobj, size), size)
        decoded = _decode(fileobj, demuxer, format_name, keep_from=0, keep_samples=max_samples)
        if decoded.samples == 0:
            raise AudioError(_("This file contains no sound."))
        # These formats state their length (MP3 in its Xing/Info header, else estimated from its bit rate,
        # hence the wider margin); much less sound than that means bytes are missing.
        margin = {"flac": 0.95, "m4a": 0.95, "mp4": 0.95, "aiff": 0.95, "mp3": 0.8}.get(format_name)
        if margin and decoded.declared_seconds and decoded.duration < margin * decoded.declared_seconds - 0.1:
            raise _truncated(decoded.declared_seconds, decoded.duration)
        kept_start, kept = 0, decoded.kept
        if decoded.samples > max_samples:
            start = _best_window(decoded.frame_db, max_samples // FRAME) * FRAME
            if start:
                kept_start = start
                kept = _decode(fileobj, demuxer, format_name, keep_from=start, keep_samples=max_samples).kept
    except AudioError:
        raise
    except (av.FFmpegError, EOFError, ValueError, IndexError, OverflowError, struct.error) as exc:
        raise _unreadable(head) from exc
    finally:
        fileobj.seek(0)
    if decoded.duration < settings.SAMPLE_MIN_SECONDS:
        raise AudioError(
            _("The sample is %(seconds).1f s long; it needs at least %(minimum)d s of speech.")
            % {"seconds": math.floor(decoded.duration * 10) / 10, "minimum": settings.SAMPLE_MIN_SECONDS}
        )
    if _dbfs(peak_level(kept)) < SILENT_PEAK_DBFS:
        raise AudioError(_("The sample is silent."))
    report = _report(decoded, kept_start / SAMPLE_RATE, kept)
    if report["loudness_lufs"] < NEARLY_SILENT_LUFS:
        raise AudioError(
            _("The sample is almost silent (%(lufs).0f LUFS): record closer to the microphone or with more gain.")
            % {"lufs": report["loudness_lufs"]}
        )
    gain_db = min(TARGET_LUFS - report["loudness_lufs"], PEAK_CEILING_DBFS - report["peak_dbfs"])
    normalized = np.multiply(kept, np.float32(10 ** (gain_db / 20)), out=kept)  # in place: kept is ours
    np.clip(normalized, -1.0, 1.0, out=normalized)
    outline = peaks(normalized)
    pcm = np.rint(np.multiply(normalized, 32767, out=normalized)).astype("<i2")
    return PreparedSample(wav=wav_bytes(pcm, SAMPLE_RATE), report=report, peaks=outline)


def upload_too_large_message():
    return _("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(settings.SAMPLE_MAX_BYTES)}
