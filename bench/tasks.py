"""The floor of bench/pipeline_overhead.py: the least a queued clone can do, as a Celery task.

Only the bench's worker loads this (bench.settings adds the bench app). It makes the three calls and
saves once at the end: no slots, no lease, no step saved before the next call, none of what keeps a
clone from being lost or paid for twice. It measures what the queue itself costs, not a design to copy.
"""

import os
import time
from datetime import UTC, datetime

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from clones.bigmodel import BigModelClient
from clones.models import Clone


@shared_task
def bare_clone(clone_id):
    started_at = datetime.fromtimestamp(time.time(), UTC)
    clone = Clone.objects.get(pk=clone_id)
    with BigModelClient(settings.BIGMODEL_BASE_URL, settings.BIGMODEL_API_KEY) as client:
        with clone.sample.open("rb") as sample:
            uploaded = client.upload_file(sample, f"{clone.voice_name}.wav")
        cloned = client.clone_voice(
            voice_name=clone.voice_name, input=clone.preview_text, file_id=uploaded.id, model=clone.provider_model
        )
        preview = client.file_content(cloned.file_id)
    clone.preview_audio.save(f"{clone.uuid}.wav", ContentFile(preview), save=False)
    Clone.objects.filter(pk=clone_id).update(
        sample_file_id=uploaded.id,
        voice_id=cloned.voice,
        preview_file_id=cloned.file_id,
        preview_audio=clone.preview_audio.name,
        status=Clone.Status.READY,
        started_at=started_at,
        finished_at=timezone.now(),
    )


# bench/studio_generate.py's timeline: with BENCH_TIMELINE set, the worker logs when each task message
# reached it and when a thread began and ended the task (wall-clock seconds), with the task's first
# argument (a take's id), so that the script can tell broker, thread, slot and post-processing time apart.
if os.environ.get("BENCH_TIMELINE"):
    import logging

    from celery.signals import task_postrun, task_prerun, task_received

    _timeline = logging.getLogger("bench.timeline")

    def _log(event, name, args):
        _timeline.info("timeline event=%s task=%s arg=%s t=%.4f", event, name.rsplit(".", 1)[-1],
                       args[0] if args else "-", time.time())  # fmt: skip

    @task_received.connect
    def _received(request, **kwargs):
        _log("received", request.name, request.args)

    @task_prerun.connect
    def _prerun(task, args, **kwargs):
        _log("start", task.name, args)

    @task_postrun.connect
    def _postrun(task, args, **kwargs):
        _log("end", task.name, args)
