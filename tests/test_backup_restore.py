"""The README's backup and restore path on the embedded defaults (SQLite, media in a folder): a
`dumpdata` and a copy of the media folder, restored into a fresh database in another data folder,
give back clones whose preview and speech play, byte for byte."""

import os
import shutil
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command

from clones import bigmodel, pipeline
from clones.models import Clone, Utterance
from tests.conftest import ROOT
from tests.test_personal_data import speech_of

pytestmark = pytest.mark.django_db(transaction=True)

# What the README says to leave out of a dump: rows Django rebuilds itself, and short-lived ones.
EXCLUDE = ["contenttypes", "auth.permission", "sessions", "admin.logentry", "axes", "clones.providerslot"]

CHECK = """
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from clones.models import Clone, Utterance

client = Client()
client.force_login(get_user_model().objects.get(username="ada"))
for clone in Clone.objects.all():
    response = client.get(clone.preview_url)
    assert response.status_code == 200, (clone.name, response.status_code)
    print("preview", clone.uuid, len(b"".join(response.streaming_content)))
for utterance in Utterance.objects.all():
    response = client.get(utterance.get_audio_url())
    assert response.status_code == 200
    print("speech", utterance.uuid, len(b"".join(response.streaming_content)))
"""


def test_a_dump_and_a_media_copy_restore_into_a_fresh_database_where_the_clones_play(user, sandbox, make_clone,
                                                                                   tmp_path):  # fmt: skip
    clone = make_clone(status=Clone.Status.QUEUED, name="Backed up")
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as api:
        pipeline.process(clone, api)
    clone.refresh_from_db()
    utterance = speech_of(user, clone)
    clone.tags.create(name="kept")

    # The backup: the database as JSON, and the media folder as it is.
    dump = tmp_path / "backup.json"
    call_command("dumpdata", "--natural-foreign", "--natural-primary", *[f"--exclude={e}" for e in EXCLUDE],
                 "--output", str(dump), verbosity=0)  # fmt: skip
    restored = tmp_path / "restored"
    shutil.copytree(settings.MEDIA_ROOT, restored / "media")

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VOICECLONE_TEST"))},
        "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings",
        "DATA_DIR": str(restored),
        "MEDIA_ROOT": str(restored / "media"),
        "DATABASE_URL": f"sqlite:///{restored / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "testserver",
    }

    def manage(*args):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True)
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        return result.stdout.decode()

    manage("migrate", "--noinput", "-v0")
    manage("loaddata", str(dump), "-v0")
    played = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True)
    assert played.returncode == 0, played.stderr.decode()[-3000:]
    with clone.preview_audio.open("rb") as preview, utterance.audio.open("rb") as speech:
        expected = f"preview {clone.uuid} {len(preview.read())}\nspeech {utterance.uuid} {len(speech.read())}\n"
    assert played.stdout.decode() == expected
    assert Utterance.objects.count() == 1
