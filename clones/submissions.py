"""Turning a valid form into paid work, shared by the web views and the JSON API.

Each charges the owner's quota first, saves, and queues the task once the transaction commits;
QuotaExceeded leaves nothing behind.
"""

from django.db import transaction

from accounts.models import QuotaExceeded, Usage, charge
from checks.models import spoken_form
from clones.models import Utterance
from clones.tasks import enqueue_clone, enqueue_utterance, retry_clone


def submit_clone(form):
    """Save and queue the clone of a valid CloneForm, or raise QuotaExceeded."""
    try:
        with transaction.atomic():
            charge(form.owner, Usage.Kind.CLONE, 1)  # before anything is stored
            clone = form.save()
            enqueue_clone(clone)
    except QuotaExceeded:
        raise
    except Exception:
        # The row did not make it: neither may its files.
        form.instance.sample.delete(save=False)
        form.instance.original.delete(save=False)
        raise
    return clone


def submit_speech(form):
    """Save and queue the utterance of a valid SpeechForm, or raise QuotaExceeded."""
    with transaction.atomic():
        charge(form.owner, Usage.Kind.SPEECH_CHARS, len(form.cleaned_data["text"]))
        utterance = form.save()
        enqueue_utterance(utterance)
    return utterance


def submit_retry(clone):
    """Send a failed clone through the pipeline again, charged to its owner like a new one; or raise QuotaExceeded.

    Its steps that have their result are skipped, but the clone call itself may be paid again.
    """
    with transaction.atomic():
        charge(clone.owner, Usage.Kind.CLONE, 1)
        retry_clone(clone)


def start_speech_stream(form):
    """Save the utterance of a valid SpeechForm as being spoken by the web process (clones.streaming),
    charged like any other, or raise QuotaExceeded. Nothing is queued: the stream speaks it, and hands
    it to the queue only if it breaks.

    The text is sent at once, so the owner's pronunciation rules are applied here, before the user's row
    is locked, and saved with the row: the stream's first audio waits for no write of its own.
    """
    utterance = form.save(commit=False)
    utterance.sent_text = spoken_form(utterance.text, utterance.owner, utterance.clone)
    utterance.status, utterance.attempts = Utterance.Status.SPEAKING, 1
    with transaction.atomic():
        charge(form.owner, Usage.Kind.SPEECH_CHARS, len(form.cleaned_data["text"]))
        utterance.lease_expires_at = Utterance.stream_lease_deadline()
        utterance.save()
    return utterance
