"""Counting from signals, so that the apps being counted need not know about metrics."""

import time

from celery import signals as celery_signals
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Usage
from accounts.signals import quota_refused
from clones.signals import clone_finished, utterance_finished
from metrics import instruments

# task id -> monotonic start; Celery's threads pool runs several tasks of one process at once.
_started = {}


@celery_signals.task_prerun.connect
def _task_started(task_id=None, **kwargs):
    _started[task_id] = time.monotonic()


def _task_ended(task_id, task, outcome):
    started = _started.pop(task_id, None)
    if started is not None and task is not None:
        instruments.task_seconds.labels(task.name, outcome).observe(time.monotonic() - started)


@celery_signals.task_success.connect
def _task_succeeded(sender=None, **kwargs):
    _task_ended(sender.request.id, sender, "success")


@celery_signals.task_failure.connect
def _task_failed(sender=None, task_id=None, **kwargs):
    _task_ended(task_id, sender, "failure")


@celery_signals.task_retry.connect
def _task_retried(sender=None, request=None, **kwargs):
    _task_ended(request.id, sender, "retry")


@celery_signals.task_postrun.connect
def _task_done(task_id=None, **kwargs):
    _started.pop(task_id, None)  # a run that ended in none of the above (e.g. a rejected message)


@receiver(post_save, sender=Usage)
def _charged(sender, instance, created, **kwargs):
    if created:
        instruments.usage.labels(instance.kind).inc(instance.amount)


@receiver(quota_refused)
def _refused(sender, code, **kwargs):
    instruments.quota_refusals.labels(code).inc()


@receiver(clone_finished)
def _clone_finished(sender, clone, **kwargs):
    instruments.clones_finished.labels(clone.status).inc()


@receiver(utterance_finished)
def _utterance_finished(sender, utterance, **kwargs):
    instruments.utterances_finished.labels(utterance.status).inc()
