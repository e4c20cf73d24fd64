"""Each speech call's log line names its utterance, also for the parts spoken in the pool's threads."""

import logging

import pytest

from clones import bigmodel, pipeline
from clones.models import Utterance

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_speech_log_line_names_the_utterance(user, sandbox, settings, caplog):
    settings.SPEECH_PARALLEL_PARTS = 3
    text = "The quick brown fox jumps over the lazy dog near the river bank. " * 45  # three parts
    utterance = Utterance.objects.create(owner=user, system_voice="tongtong", text=text)
    caplog.set_level(logging.INFO, logger="clones.bigmodel")
    with (
        bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client,
        bigmodel.log_context(utterance=utterance.pk),
    ):
        pipeline.synthesize(utterance, client)
    lines = [record.getMessage() for record in caplog.records if "route=audio.speech" in record.getMessage()]
    assert len(lines) == utterance.parts == 3
    assert all(f"utterance={utterance.pk}" in line for line in lines), lines
