"""manage.py check_provider against the sandbox: the free checks, and one real clone with --spend."""

import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("check_provider", *args, stdout=out)
    return out.getvalue()


def line(output, what):
    return next(text for text in output.splitlines() if text[6:].startswith(what))


def test_the_free_checks_pass_against_the_sandbox(sandbox):
    output = run()
    assert line(output, "key accepted").startswith("OK")
    assert line(output, "clone model glm-tts-clone").startswith("OK")
    assert line(output, "speech model glm-tts").startswith("OK")
    assert "present in the sample of system voice" in line(output, "watermark tone")
    assert "FAIL" not in output
    # Nothing billed: no upload, no clone made, no speech that succeeded.
    assert sandbox.calls("files.upload") == [] and sandbox.voices() == []
    assert all(call["status"] >= 400 for call in sandbox.calls("audio.speech"))


def test_spend_clones_once_reports_every_step_and_leaves_no_voice(sandbox):
    output = run("--spend")
    assert "FAIL" not in output, output
    for step in ("upload 5 s sample", "clone (billed)", "preview", "speak one sentence", "delete the voice"):
        assert line(output, step).startswith("OK") and " ms, " in line(output, step)
    assert "works without the key" in line(output, "download_url")
    assert "refused" in line(output, "file content")
    assert line(output, "preview route used").endswith("download_url")
    assert line(output, "watermark tone in speech").endswith("present (watermark_enabled on)")
    assert len(sandbox.calls("voice.clone")) == 2  # the free probe (refused) and the one billed clone
    assert sandbox.voices() == []


def test_spend_reports_a_download_url_that_needs_the_key(sandbox):
    sandbox.set_faults([{"route": "download", "action": "error", "status": 401, "times": 1}])
    output = run("--spend")
    assert "needs the key" in line(output, "download_url")


def test_spend_finds_no_tone_when_the_watermark_is_off(sandbox, settings):
    settings.BIGMODEL_WATERMARK = False
    assert line(run("--spend"), "watermark tone in speech").endswith("absent (watermark_enabled off)")


def test_a_refused_key_fails_with_what_to_send(sandbox, settings):
    settings.BIGMODEL_API_KEY = "not-the-key"
    with pytest.raises(CommandError, match="key was refused"):
        run()


def test_a_missing_model_is_a_failure(sandbox, settings):
    settings.BIGMODEL_TTS_MODEL = "no-such-tts"
    with pytest.raises(CommandError, match="send this output"):
        run()
