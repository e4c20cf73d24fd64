"""The conversation with the provider: every step that makes a BigModel call on behalf of a clone or
an utterance, and what its answer (or its failure) does to the row.

The models keep the records (fields, state, the lease, saving a step with the status that follows);
`clones.bigmodel` does the talking over HTTP; this module is where the two meet, as healthchecks'
`Channel.notify` keeps records and its transports talk. The Celery tasks in `clones.tasks` call in
here with a client from `provider_client()`; so do the admin and the transcribe view.

Follow a clone: `process` runs `upload_sample`, `create_voice` and `fetch_preview` in turn; each
makes one provider call and saves its result at once, so a retry skips the steps already done.
"""

import contextlib
import contextvars
import logging
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from accounts.models import meter_current_call
from checks.models import spoken_form
from clones import bigmodel, watermark
from clones.audio import SPEECH_RATE, AudioError, decode_mono, peaks, sniff_format
from clones.models import Clone
from clones.provider_slots import RECOGNITION, provider_slot
from clones.speech_join import join_parts
from clones.text import split_text

logger = logging.getLogger(__name__)


def provider_client(limiter=provider_slot):
    """A BigModel client from the settings whose calls each hold one of the global provider slots (or
    what `limiter` holds instead), whose paid calls are each metered to the owner that `billing()` names,
    before they go out, and whose calls are all counted in the metrics."""
    from metrics.instruments import observe_provider_call

    return bigmodel.BigModelClient.from_settings(
        limiter=limiter, before_paid_call=meter_current_call, on_call=observe_provider_call
    )


def recognizer_client():
    """A client for speech recognition (the checks): its calls hold the recognizer's own slots, as the
    provider limits calls in flight per model."""
    return provider_client(limiter=partial(provider_slot, RECOGNITION))


# -- a clone: upload the sample, create the voice, fetch the preview ---------------------------------


def process(clone, client):
    """Upload, clone, preview. Each step makes one provider call and saves its result at once, in the
    same statement as the status of the step that follows; a step whose result is saved is skipped."""
    upload_sample(clone, client)
    create_voice(clone, client)
    fetch_preview(clone, client)
    if clone.status != Clone.Status.READY:  # every step was done already, by an earlier attempt
        clone.save_step()


def upload_sample(clone, client):
    if clone.sample_file_id:
        return
    with clone.sample.open("rb") as sample:
        uploaded = client.upload_file(sample, f"{clone.voice_name}.{clone.sample_format}")
    clone.sample_file_id = uploaded.id
    clone.save_step("sample_file_id")


def create_voice(clone, client):
    if clone.voice_id:
        return
    # An earlier attempt may have reached the provider and lost the answer: look before paying.
    if clone.clone_requested_at and _adopt_existing_voice(clone, client):
        return
    clone.request_id = bigmodel.new_request_id()
    clone.clone_requested_at = timezone.now()
    clone.save(update_fields=["request_id", "clone_requested_at", "updated_at"])
    result = client.clone_voice(
        voice_name=clone.voice_name,
        input=clone.preview_text,
        text=clone.transcript,
        file_id=clone.sample_file_id,
        model=clone.provider_model,
        request_id=clone.request_id,
    )
    clone.voice_id, clone.preview_file_id = result.voice, result.file_id
    clone.save_step("voice_id", "preview_file_id")


def find_provider_voice(clone, client):
    """The provider's voice under this clone's unique name, or None."""
    for voice in client.list_voices(voice_type="PRIVATE", voice_name=clone.voice_name):
        if voice.voice_name == clone.voice_name:  # the name filter is fuzzy
            return voice
    return None


def adopt_late_voice(clone, client):
    """A clone call whose answer we lost may have made the voice after all: take it, don't fail."""
    if clone.voice_id or not clone.clone_requested_at:
        return False
    return _adopt_existing_voice(clone, client)


def _adopt_existing_voice(clone, client):
    voice = find_provider_voice(clone, client)
    if voice is None:
        return False
    logger.info("clone=%s adopting provider voice found by name", clone.pk)
    clone.voice_id = voice.voice
    clone.save_step("voice_id")
    return True


def fetch_preview(clone, client):
    """The preview by the first route that gives one (BigModelClient.fetch_preview), and which it was.
    When none does, the clone fails into "ready, preview unavailable" (see `fail`), never into failed."""
    if not clone.wants_preview():
        return
    try:
        data, route = client.fetch_preview(
            voice=clone.voice_id,
            voice_name=clone.voice_name,
            file_id=clone.preview_file_id,
            text=clone.preview_text,
            speech_model=settings.BIGMODEL_TTS_MODEL,
        )
    except bigmodel.PreviewUnavailable as exc:
        if exc.retryable:  # some route may work later: retried like any transient failure
            raise bigmodel.ServerError(exc.message, code="preview") from exc
        raise
    audio_format = sniff_format(data)
    if audio_format is None:
        raise bigmodel.BadResponse("The preview the provider sent is not WAV or MP3 audio")
    clone.preview_audio.save(f"{clone.uuid}.{audio_format}", ContentFile(data), save=False)
    clone.preview_peaks, clone.preview_duration = _peaks_and_duration_of(data)
    clone.preview_route = route
    clone.save_step("preview_audio", "preview_peaks", "preview_duration", "preview_route")


def _peaks_and_duration_of(data):
    """The preview's waveform and length (known before anyone presses play); a preview we cannot decode
    still plays in a browser, just without them."""
    try:
        samples = decode_mono(data, SPEECH_RATE)
    except AudioError:
        logger.warning("preview audio could not be decoded for its waveform")
        return [], None
    return peaks(samples), round(len(samples) / SPEECH_RATE, 2)


def delete_at_provider(clone, client):
    """Delete our voice at the provider, if it has one; a voice already gone counts as deleted."""
    voice_id = clone.voice_id
    if not voice_id and clone.clone_requested_at:
        found = find_provider_voice(clone, client)  # a clone whose answer was lost
        voice_id = found.voice if found else ""
    if not voice_id:
        return
    try:
        client.delete_voice(voice_id)
    except bigmodel.PermanentError:
        # An earlier attempt may have deleted it and lost the answer: gone is what we want.
        if find_provider_voice(clone, client) is not None:
            raise


# -- failing with a reason --------------------------------------------------------------------------


def fail(clone, error):
    """Finish the clone as failed, with the kind of error its owner is told about, the sentence of the
    provider's code, and the provider's code and message for staff. A clone that has its voice is never
    failed for want of a preview: it is ready, its preview "unavailable", and its owner may ask again."""
    code = getattr(error, "code", None) or ""
    if clone.voice_id and clone.wants_preview():
        logger.warning("clone=%s ready without a preview: %s", clone.pk, error)
        clone.mark_preview_unavailable(code, _error_message(error))
        return
    known = bigmodel.ERROR_CODES.get(code) if isinstance(error, bigmodel.BigModelError) else None
    clone.mark_failed(error_kind(error), code, _error_message(error), known.message if known else "")


def fail_utterance(utterance, error):
    code = getattr(error, "code", None) or ""
    known = bigmodel.ERROR_CODES.get(code) if isinstance(error, bigmodel.BigModelError) else None
    utterance.mark_failed(code, _error_message(error), known.message if known else "")
    delete_speech_parts(utterance)


def error_kind(error):
    if isinstance(error, bigmodel.TransientError):
        return Clone.ErrorKind.UNAVAILABLE
    if isinstance(error, bigmodel.AuthenticationFailed | bigmodel.AccountProblem | bigmodel.QuotaExhausted):
        return Clone.ErrorKind.ACCOUNT
    if isinstance(error, bigmodel.ContentRejected):
        return Clone.ErrorKind.CONTENT
    if isinstance(error, bigmodel.BigModelError):
        return Clone.ErrorKind.REJECTED
    return Clone.ErrorKind.INTERNAL


def _error_message(error):
    return getattr(error, "message", "") or type(error).__name__


# -- an utterance: speak the text part by part and keep one WAV --------------------------------------


def synthesize(utterance, client):
    """Speak the text part by part, in parallel up to the configured cap, and keep one WAV.

    Each part streams from the provider into a file, is kept in the storage at once (so that a worker
    that dies mid-speech leaves the parts it was paid for, and the next attempt does not pay for them
    again), and the parts are joined on disk (clones.speech_join): a long text is never in memory whole.
    """
    # The owner's pronunciation rules rewrite the text before it is sent; the utterance keeps what was sent.
    utterance.sent_text = spoken_form(utterance.text, utterance.owner, utterance.clone)
    texts = split_text(utterance.sent_text, bigmodel.SPEECH_MAX_CHARS)
    with _spoken(utterance, client, texts, str(utterance.uuid)) as (joined, seconds):
        with joined.open("rb") as audio:
            utterance.audio.save(f"{utterance.uuid}.wav", File(audio), save=False)
    utterance.mark_ready(round(seconds, 2), len(texts))
    delete_speech_parts(utterance)


def speak_again(utterance, attempt, client):
    """Speak the utterance's text once more, into `attempt` (checks.tasks.redo_utterance), as `synthesize`
    speaks it: its parts are kept as they are paid for, so a retried task does not pay for them twice."""
    texts = split_text(attempt.sent_text, bigmodel.SPEECH_MAX_CHARS)
    key = f"{utterance.uuid}-{attempt.number}"
    with _spoken(utterance, client, texts, key) as (joined, seconds):
        with joined.open("rb") as audio:
            attempt.audio.save(f"{key}.wav", File(audio), save=False)
    attempt.duration, attempt.provider_calls = round(seconds, 2), len(texts)
    attempt.save(update_fields=["audio", "duration", "provider_calls"])
    delete_attempt_parts(utterance, attempt)


def delete_attempt_parts(utterance, attempt):
    """The parts kept while an attempt was spoken, once it is joined or given up on."""
    for index in range(len(split_text(attempt.sent_text, bigmodel.SPEECH_MAX_CHARS))):
        default_storage.delete(_part_name(f"{utterance.uuid}-{attempt.number}", index))


@contextlib.contextmanager
def _spoken(utterance, client, texts, key):
    """The texts spoken in the utterance's voice and joined: (path of the WAV, seconds), while the block runs."""
    workers = max(1, min(settings.SPEECH_PARALLEL_PARTS, len(texts)))
    with tempfile.TemporaryDirectory(prefix="voiceclone-speech-") as folder:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            # Each part runs in a copy of this thread's context, so its log lines still name the utterance
            # and its call is metered to the owner. The copy is taken here, in the task's thread: taken in
            # the pool thread it would be that thread's own empty context. One copy per part, as a
            # context can be entered by one thread at a time.
            futures = [
                pool.submit(contextvars.copy_context().run, _speech_part, utterance, client, index, text, folder, key)
                for index, text in enumerate(texts)
            ]
            paths = [future.result() for future in futures]
        joined = Path(folder) / "joined.wav"
        # The provider's audible mark stays once, at the start of the whole: trimmed off every later part.
        seconds = join_parts(
            paths, joined, pause_seconds=settings.SPEECH_PAUSE_SECONDS, trim=watermark.trim_part_chunks
        )
        yield joined, seconds


COPY_CHUNK = 64 * 1024


def _part_name(key, index):
    return f"speech-parts/{key}/{index:03d}.wav"


def delete_speech_parts(utterance):
    """The parts kept while an utterance was spoken, once it is joined or given up on."""
    for index in range(len(split_text(utterance.text, bigmodel.SPEECH_MAX_CHARS))):
        default_storage.delete(_part_name(utterance.uuid, index))


def _speech_part(utterance, client, index, text, folder, key):
    """The part's audio in a local file: from the storage if an earlier attempt was paid for it, else spoken."""
    path = Path(folder) / f"{index:03d}.wav"
    name = _part_name(key, index)
    try:
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as kept, path.open("wb") as local:
                shutil.copyfileobj(kept, local, COPY_CHUNK)
            return path
        with path.open("wb") as local:
            client.speech(
                input=text,
                voice=utterance.voice,
                model=settings.BIGMODEL_TTS_MODEL,
                speed=utterance.speed,
                volume=utterance.volume,
                response_format="wav",
                into=local,
            )
        with path.open("rb") as local:
            default_storage.save(name, File(local))
        return path
    finally:
        connection.close()  # this pool thread's own database connection (the slot limiter's)
