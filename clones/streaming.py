"""Speech streamed to a listener while the provider makes it: the speak page, the API's `stream=true`
and the OpenAI-compatible endpoint all play through a `SpeechStream`.

The one exception to "every provider call runs in a Celery task": a stream is spoken from the web
process, because its audio must reach the listener as it comes. It keeps every other rule. It is an
`Utterance` row from the start (saved as "speaking" when the quota is charged, by
`clones.submissions.start_speech_stream`), so history and the sweep know it; each of its provider calls
holds one of the global provider slots; and when it ends the whole take is stored as the queued path
stores it, so nothing is spoken twice. A stream that breaks (a provider error, a listener who went away)
is handed to the queue (`clones.tasks.finish_broken_stream`), already paid for.

A long text is spoken in parts (clones.text.split_text), as the queued path does: the part being heard
is streamed as it comes while the next parts (up to SPEECH_PARALLEL_PARTS at once) are already being
made into memory, and each is played when its turn comes, after the same short pause the stored WAV has.
"""

import contextlib
import contextvars
import logging
import queue
import struct
import threading
import time

import av
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.http import StreamingHttpResponse

from accounts.models import billing
from clones import bigmodel, pipeline, tasks
from clones.audio import SPEECH_RATE, wav_bytes
from clones.provider_slots import provider_slot, renew
from clones.submissions import start_speech_stream
from clones.text import split_text
from clones.watermark import SEARCH_SECONDS, trim_leading_tone

logger = logging.getLogger(__name__)

_END = object()
# How often a stream renews its provider slots' leases and its utterance's lease (so the sweep leaves it
# alone): well inside both (clones.models.provider_call_settled).
RENEW_SECONDS = 20
# How much of a later part is held back to find the provider's audible mark at its start.
_HEAD_BYTES = int(SEARCH_SECONDS * SPEECH_RATE) * 2


def _without_mark(pcm):
    return trim_leading_tone(np.frombuffer(pcm, dtype="<i2"), SPEECH_RATE).tobytes()


class StreamsBusy(Exception):
    """This web process already serves STREAMS_PER_PROCESS streams; the rest of the site needs its threads."""


# Streams this process is serving now: each holds one of the server's request threads for its length.
_open_streams = threading.BoundedSemaphore(max(1, settings.STREAMS_PER_PROCESS))


def reserve_stream():
    """Take one of this process's stream places, or raise StreamsBusy; `SpeechStream.close` gives it back."""
    if not _open_streams.acquire(blocking=False):
        raise StreamsBusy()


def release_stream():
    _open_streams.release()


class SpeechStream:
    """The PCM of an utterance (16-bit mono at SPEECH_RATE), part after part, as the provider makes it.

    `start()` waits for the first chunk, so an error before any audio can still be answered as an
    error; iterating yields the audio; the last step stores the take, or hands a broken one to the queue.
    """

    def __init__(self, utterance):
        self.utterance = utterance
        # The text after the owner's pronunciation rules, saved with the row (start_speech_stream).
        self.texts = split_text(utterance.sent_text, bigmodel.SPEECH_MAX_CHARS)
        self.parts = [queue.Queue() for _ in self.texts]
        self.cancelled = threading.Event()
        self.lock = threading.Lock()
        self.next_part = 0
        self.pcm = []
        self.first = None
        self.finished = False
        self.closed = False
        self.beaten = time.monotonic()

    @property
    def part_count(self):
        return len(self.texts)

    # -- making the parts, each in a thread of its own ---------------------------------------------

    def _launch_next(self):
        with self.lock:
            if self.cancelled.is_set() or self.next_part >= len(self.texts):
                return
            index, self.next_part = self.next_part, self.next_part + 1
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(self._make, index), daemon=True, name=f"speech-{index}")
        thread.start()

    def _make(self, index):
        out = self.parts[index]
        held = {}

        @contextlib.contextmanager
        def slot():
            # The global cap's slot, remembered so that a long stream can renew its lease below.
            with provider_slot() as number:
                held["number"] = number
                yield

        try:
            with (
                bigmodel.log_context(utterance=self.utterance.pk, part=index + 1),
                billing(self.utterance.owner_id, f"utterance:{self.utterance.pk}"),
                pipeline.provider_client(limiter=slot) as client,
            ):
                chunks = client.speech_stream(
                    input=self.texts[index],
                    voice=self.utterance.voice,
                    model=settings.BIGMODEL_TTS_MODEL,
                    speed=self.utterance.speed,
                    volume=self.utterance.volume,
                )
                renewed = time.monotonic()
                try:
                    for chunk in chunks:
                        if self.cancelled.is_set():
                            break
                        if chunk.sample_rate != SPEECH_RATE:
                            raise bigmodel.BadResponse(f"BigModel streamed speech at {chunk.sample_rate} Hz")
                        out.put(chunk.pcm)
                        if held.get("number") and time.monotonic() - renewed > RENEW_SECONDS:
                            renew(held["number"])
                            renewed = time.monotonic()
                finally:
                    chunks.close()  # closes the provider's connection if we stopped early
            out.put(_END)
        except Exception as exc:  # handed to the listener's thread, which decides what it means
            out.put(exc)
        finally:
            connection.close()  # this thread's own database connection (the provider slot's)
            self._launch_next()

    # -- hearing them, in order -------------------------------------------------------------------

    def start(self):
        """Begin making the first part and wait for its first audio; raise its error if there is none."""
        self._launch_next()
        item = self._next_item(0)
        if item is _END or isinstance(item, Exception):
            self.close()
            if item is _END:
                raise bigmodel.BadResponse("BigModel streamed no audio")
            raise item
        self.first = item

    def _launch_later_parts(self):
        # Only once the first sound has been handed to the server: started any sooner, their threads
        # (a slot to take, a connection to open) compete with the first part's for the database, the
        # GIL and the CPU, and the listener waits for that (bench/README.md: 10 to 80 ms at 10,000
        # characters). Each part that ends starts the next (`_make`), so SPEECH_PARALLEL_PARTS stay busy.
        for _ in range(min(settings.SPEECH_PARALLEL_PARTS, len(self.texts)) - 1):
            self._launch_next()

    def _next_item(self, index):
        # Never wait forever: a slot's wait plus a call's silence is as long as any part can be quiet.
        timeout = settings.PROVIDER_SLOT_WAIT_SECONDS + settings.BIGMODEL_READ_TIMEOUT + 30
        try:
            return self.parts[index].get(timeout=timeout)
        except queue.Empty:
            return bigmodel.ConnectionFailed("No speech came from BigModel in time")

    def __iter__(self):
        try:
            for index in range(len(self.texts)):
                if index:
                    pause = np.zeros(int(settings.SPEECH_PAUSE_SECONDS * SPEECH_RATE), dtype="<i2").tobytes()
                    self.pcm.append(pause)
                    yield pause
                # A later part's first second is held back until the provider's audible mark can be taken
                # off it (clones.watermark), as the queued path's join does: the mark once, at the start.
                head = b"" if index else None
                while True:
                    item = self.first if index == 0 and self.first is not None else self._next_item(index)
                    if index == 0:
                        self.first = None
                    if item is _END:
                        break
                    if isinstance(item, Exception):
                        self._broke(item)
                        return
                    if head is not None:
                        head += item
                        if len(head) < _HEAD_BYTES:
                            continue
                        item, head = _without_mark(head), None
                    self.pcm.append(item)
                    yield item
                    if len(self.pcm) == 1:  # the first audio is written: the later parts may start
                        self._launch_later_parts()
                    if time.monotonic() - self.beaten > RENEW_SECONDS:
                        self.utterance.beat()
                        self.beaten = time.monotonic()
                if head:  # a part shorter than its held-back head
                    item = _without_mark(head)
                    self.pcm.append(item)
                    yield item
            self._store()
        finally:
            self.abandon()

    def abandon(self):
        """The listener went away before the end (the server closed the response): stop the provider's
        calls and hand the rest to the queue. Does nothing once the stream has finished."""
        if self.finished:
            self.close()
            return
        self.finished = True
        self.close()
        logger.info("utterance=%s stream closed by the listener; finishing in the queue", self.utterance.pk)
        tasks.finish_broken_stream(self.utterance, bigmodel.ConnectionFailed("The listener went away"))

    def _store(self):
        data = b"".join(self.pcm)
        audio = wav_bytes(np.frombuffer(data, dtype="<i2"), SPEECH_RATE)
        seconds = len(data) / 2 / SPEECH_RATE
        self.utterance.audio.save(f"{self.utterance.uuid}.wav", ContentFile(audio), save=False)
        if not self.utterance.finish_stream(round(seconds, 2), len(self.texts)):
            # The sweep took it meanwhile (a stream longer than STUCK_AFTER_SECONDS): the queue stores it.
            self.utterance.audio.delete(save=False)
        else:
            tasks.queue_check(self.utterance)  # heard back by a worker, as queued speech is
        self.finished = True

    def _broke(self, error):
        logger.warning(
            "utterance=%s stream broke: %s (%s); finishing in the queue",
            self.utterance.pk,
            error,
            type(error).__name__,
            exc_info=not isinstance(error, bigmodel.BigModelError),
        )
        self.close()
        tasks.finish_broken_stream(self.utterance, error)
        self.finished = True

    def close(self):
        """Stop every part still being made (their provider connections close) and free our place."""
        if self.closed:
            return
        self.closed = True
        self.cancelled.set()
        release_stream()


class Body:
    """A streaming response's content: `chunks` (the wrapped audio), and on close (Django closes a
    response when it is done with it, finished or not) the stream is abandoned unless it finished."""

    def __init__(self, stream, chunks):
        self.stream, self.chunks = stream, chunks

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        close = getattr(self.chunks, "close", None)
        if close:
            close()
        self.stream.abandon()


# -- the audio's wrapping --------------------------------------------------------------------------


def streaming_wav_header(rate=SPEECH_RATE):
    """A WAV header for a stream of unknown length: both sizes at their maximum, as players expect of
    live WAV (the stored file, written at the end, has the true sizes)."""
    unknown = 0xFFFFFFFF
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", unknown)
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + (struct.pack("<I", unknown))
    )


def as_wav(pcm_chunks, rate=SPEECH_RATE):
    chunks = iter(pcm_chunks)
    # The header and the first audio in one write: one packet less before the listener hears anything.
    yield streaming_wav_header(rate) + next(chunks, b"")
    yield from chunks


class _Sink:
    """Where the MP3 muxer writes: a buffer emptied as we send, which cannot seek back (so the muxer
    writes no header it would fill in at the end, as it must for a stream)."""

    def __init__(self):
        self.buffer = bytearray()

    def write(self, data):
        self.buffer += data
        return len(data)

    def drain(self):
        data, self.buffer = bytes(self.buffer), bytearray()
        return data


def as_mp3(pcm_chunks, rate=SPEECH_RATE):
    """MP3 frames as the PCM comes, encoded by PyAV (LAME)."""
    out = _Sink()
    container = av.open(out, mode="w", format="mp3")
    try:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        stream.bit_rate = 64_000
        frame_size = 1152
        pending = b""
        pts = 0

        def encode(block):
            nonlocal pts
            frame = av.AudioFrame.from_ndarray(
                np.frombuffer(block, dtype="<i2").reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate, frame.pts = rate, pts
            pts += frame.samples
            for packet in stream.encode(frame):
                container.mux(packet)

        for chunk in pcm_chunks:
            pending += chunk
            whole = len(pending) // (frame_size * 2) * frame_size * 2
            if whole:
                encode(pending[:whole])
                pending = pending[whole:]
                if data := out.drain():
                    yield data
        if pending:
            encode(pending)
        for packet in stream.encode(None):
            container.mux(packet)
    finally:
        container.close()
    if data := out.drain():
        yield data


# -- opening a stream for a request ----------------------------------------------------------------


class StreamFailed(Exception):
    """The provider failed before the first audio. The utterance is already handed on: queued again
    for a worker (`queued` is True) when trying again can help, failed otherwise."""

    def __init__(self, utterance, error):
        super().__init__(str(error))
        self.utterance, self.error = utterance, error
        self.queued = not isinstance(error, bigmodel.PermanentError)


def open_stream(form):
    """Charge, save and start speaking a valid SpeechForm's utterance; the first audio is in hand when
    this returns, so any failure before it can still be answered as an error.

    Raises StreamsBusy (nothing saved or charged), QuotaExceeded (nothing saved) or StreamFailed.
    """
    reserve_stream()
    try:
        utterance = start_speech_stream(form)
    except BaseException:
        release_stream()
        raise
    stream = SpeechStream(utterance)
    try:
        stream.start()
    except bigmodel.BigModelError as exc:
        stream.finished = True
        logger.warning("utterance=%s stream failed before its first audio: %s", utterance.pk, exc)
        tasks.finish_broken_stream(utterance, exc)
        raise StreamFailed(utterance, exc) from exc
    return stream


AUDIO_TYPES = {"wav": "audio/wav", "pcm": "audio/L16; rate=24000; channels=1", "mp3": "audio/mpeg"}


def streaming_response(stream, audio_format="wav"):
    """The stream as an HTTP response: chunked, never buffered by a proxy, its PCM format in headers."""
    wrap = {"wav": as_wav, "mp3": as_mp3, "pcm": iter}[audio_format]
    response = StreamingHttpResponse(Body(stream, wrap(stream)), content_type=AUDIO_TYPES[audio_format])
    response["Cache-Control"] = "no-store"
    # nginx and similar proxies would otherwise collect the audio before passing it on.
    response["X-Accel-Buffering"] = "no"
    response["X-Audio-Sample-Rate"] = str(SPEECH_RATE)
    response["X-Audio-Channels"] = "1"
    response["X-Audio-Sample-Format"] = "s16le"
    response["X-Speech-Parts"] = str(stream.part_count)
    response["X-Utterance"] = str(stream.utterance.uuid)
    return response
