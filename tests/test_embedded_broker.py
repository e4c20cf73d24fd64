"""The embedded (filesystem) broker never shows a consumer a message that is still being written."""

import os

import pytest
from kombu import Connection

from voiceclone_site import broker


def test_a_message_is_invisible_to_consumers_until_it_is_whole(tmp_path, monkeypatch):
    folder = str(tmp_path)
    visible_before_rename = []
    real_replace = os.replace

    def replace(source, target):
        # The moment between writing and renaming: what a polling consumer could take now.
        visible_before_rename.append([name for name in os.listdir(folder) if name.endswith(".jobs.msg")])
        real_replace(source, target)

    monkeypatch.setattr(broker.os, "replace", replace)
    options = {"data_folder_in": folder, "data_folder_out": folder, "control_folder": folder}
    with Connection("filesystem://", transport="voiceclone_site.broker:Transport", transport_options=options) as conn:
        queue = conn.SimpleQueue("jobs")
        queue.put({"task": "one"})
        assert visible_before_rename == [[]]  # written under a name no consumer takes, then renamed
        message = queue.get(timeout=1)
        assert message.payload == {"task": "one"}
        message.ack()
        queue.close()


def test_the_worker_uses_it_on_the_embedded_defaults(settings):
    from voiceclone_site.celery import app

    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        pytest.skip("this run's broker is Redis")
    with app.connection_for_write() as conn:
        assert isinstance(conn.transport, broker.Transport)
