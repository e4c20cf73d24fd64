"""Turning a valid form into paid work, shared by the web views and the JSON API.

Each charges the owner's quota first, saves, and queues the task once the transaction commits;
QuotaExceeded leaves nothing behind.
"""

from django.db import transaction

from accounts.models import QuotaExceeded, Usage, charge
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
