"""Reconciling with the provider: unknown voices listed for import or deletion, missing ones marked gone."""

import io

import pytest
from django.core.management import call_command

from clones import bigmodel
from clones.models import Clone
from tests.samples import wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as client:
        yield client


@pytest.fixture
def voices(api, make_clone):
    """The sandbox holds A, B and C; we know B, C and D."""
    made = {}
    for name in ("vc_a", "vc_b", "vc_c"):
        file_id = api.upload_file(io.BytesIO(wav_bytes(4)), "s.wav").id
        made[name] = api.clone_voice(voice_name=name, input="Hello.", file_id=file_id, model="glm-tts-clone").voice
    for name in ("vc_b", "vc_c"):
        make_clone(name=name.upper(), voice_name=name, voice_id=made[name])
    make_clone(name="VC_D", voice_name="vc_d", voice_id="0b0e1e4c-0000-4000-8000-00000000000d")
    return made


def run(*args):
    out = io.StringIO()
    call_command("reconcile_voices", *args, stdout=out)
    return out.getvalue()


def test_command_reports_unknown_and_marks_gone(voices):
    output = run()
    assert f"unknown: {voices['vc_a']} vc_a" in output
    assert "gone: 0b0e1e4c-0000-4000-8000-00000000000d vc_d" in output
    assert output.strip().endswith("1 unknown, 1 gone")
    assert Clone.objects.get(voice_name="vc_d").gone_at is not None
    assert Clone.objects.filter(gone_at__isnull=False).count() == 1


def test_import_creates_a_ready_clone_with_its_preview(voices, user):
    output = run("--import-to", user.username)
    imported = Clone.objects.get(voice_name="vc_a")
    assert f"imported as clone {imported.uuid}" in output
    assert imported.voice_id == voices["vc_a"] and imported.owner == user and imported.is_ready
    assert imported.preview_audio.read()[:4] == b"RIFF"
    assert "0 unknown" in run()


def test_delete_unknown_removes_them_at_the_provider(voices, sandbox):
    run("--delete-unknown")
    assert sorted(v["voice_name"] for v in sandbox.voices()) == ["vc_b", "vc_c"]


def test_admin_view_lists_and_imports(voices, admin_client, admin_user):
    page = admin_client.get("/admin/clones/clone/reconcile/")
    assert page.status_code == 200 and voices["vc_a"] in page.text and "VC_D" in page.text
    admin_client.post("/admin/clones/clone/reconcile/", {"voice": voices["vc_a"], "import": "1"})
    assert Clone.objects.get(voice_name="vc_a").owner == admin_user


def test_gone_clones_leave_the_gallery_and_cannot_speak(voices, client, user):
    run()
    gone = Clone.objects.get(voice_name="vc_d")
    assert not gone.can_speak(user)
    assert not Clone.objects.gallery().filter(pk=gone.pk).exists()
