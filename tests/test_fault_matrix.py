"""Every provider fault on every pipeline call: the clone ends right, no voice is paid twice, nothing is lost.

A dedicated worker with a short read timeout runs the pipeline; the sandbox injects one fault per case.
The sandbox follows the documentation: file content refuses previews (they are not batch files), so the
preview comes from the voice list's download_url, or else is spoken with the new voice. Every case ends
ready (with its preview, or with the preview "unavailable" and the voice usable) or failed with the
sentence of its specific reason.
"""

import time

import pytest

from clones import tasks
from clones.models import Clone
from tests.conftest import start_worker, stop_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

ACCOUNT = "The site's voice service account cannot be used right now (inactive, locked or in arrears)."
AUTH = "The voice service refused the site's API key."
NO_ACCESS = "The site's voice service account has no access to this function of the service."
PLAN = "The site's voice service plan has reached a usage or fair-use limit, so the work was stopped"
REJECTED = "The voice service rejected this sample or text."
CONTENT = "The voice service refused this content under its content policy."

# Short, so timeouts are quick; long enough that an ordinary call on a busy machine never hits it.
READ_TIMEOUT = 3
# The sandbox sleeps this long, then does the work: the answer comes after the worker gave up.
LATE = READ_TIMEOUT + 2

RETRYABLE = {
    "429-1302": {"action": "error", "status": 429, "code": "1302"},
    "429-1305": {"action": "error", "status": 429, "code": "1305"},
    "500": {"action": "error", "status": 500},
    "503": {"action": "error", "status": 503},
    "timeout": {"action": "delay", "latency": LATE},
    "dropped": {"action": "drop"},
    "malformed": {"action": "malformed"},
    "missing-field": {"action": "missing_field"},
}
# name -> (rule, the sentence the owner reads when the step cannot go on)
PERMANENT = {
    "429-1113": ({"action": "error", "code": "1113"}, ACCOUNT),
    "401-1002": ({"action": "error", "code": "1002"}, AUTH),
    "403-1220": ({"action": "error", "code": "1220"}, NO_ACCESS),
    "429-1313": ({"action": "error", "code": "1313"}, PLAN),
    "429-1321": ({"action": "error", "code": "1321"}, PLAN),
    "400-1214": ({"action": "error", "code": "1214"}, REJECTED),
    "400-1301": ({"action": "error", "code": "1301"}, CONTENT),
    "200-error-body-1214": ({"action": "error_body", "code": "1214"}, REJECTED),
}
# Refusals of the whole account: every preview route would repeat them, so the preview is given up.
ACCOUNT_STOPS = {"429-1113", "401-1002", "429-1313", "429-1321"}


def expected(route, fault):
    """("ready", preview route) | ("unavailable", None) | ("failed", sentence)."""
    if route in ("files.upload", "voice.clone"):
        if fault in RETRYABLE:
            return "ready", "download_url"
        return "failed", PERMANENT[fault][1]
    if route == "voice.list":  # the preview's lookup: any failure hands over to the next route
        return ("unavailable", None) if fault in ACCOUNT_STOPS else ("ready", "speech")
    if route == "download":
        # Refused without the key on the API's own host: asked once more with it, which works.
        return ("ready", "download_url") if fault in ("download-401", "download-403") else ("ready", "speech")
    # audio.speech, the last route (the download fails for good in these cases)
    return ("ready", "speech") if fault in RETRYABLE else ("unavailable", None)


DOWNLOAD_FAULTS = {
    "download-401": {"action": "error", "status": 401},
    "download-403": {"action": "error", "status": 403},
    "download-404": {"action": "error", "status": 404},
    **{name: RETRYABLE[name] for name in ("500", "timeout", "dropped", "malformed")},
    "200-error-body-1214": PERMANENT["200-error-body-1214"][0],
}
SPEECH_FAULTS = {
    **{name: RETRYABLE[name] for name in ("429-1302", "500", "timeout", "dropped", "malformed")},
    **{name: PERMANENT[name][0] for name in ("400-1214", "429-1313", "200-error-body-1214")},
    "200-error-body-1301": {"action": "error_body", "code": "1301"},
}
ALL = {**RETRYABLE, **{name: rule for name, (rule, _) in PERMANENT.items()}}
CASES = [
    *[(route, fault) for route in ("files.upload", "voice.clone", "voice.list") for fault in ALL],
    *[("download", fault) for fault in DOWNLOAD_FAULTS],
    *[("audio.speech", fault) for fault in SPEECH_FAULTS],
]


@pytest.fixture(scope="module")
def fault_worker(celery_worker):
    with celery_worker.paused():
        worker = start_worker({"BIGMODEL_READ_TIMEOUT": str(READ_TIMEOUT)})
        yield worker
        stop_worker(worker)


@pytest.mark.parametrize("route, fault", CASES, ids=[f"{route}-{fault}" for route, fault in CASES])
def test_fault(fault_worker, sandbox, make_clone, route, fault):
    rule = {**ALL, **DOWNLOAD_FAULTS, **SPEECH_FAULTS}[fault]
    faults = [{"route": route, "times": 1, **rule}]
    if route == "audio.speech":  # speech is reached only when the download fails
        faults.append({"route": "download", "action": "error", "status": 404, "times": None})
    sandbox.set_faults(faults)
    clone = make_clone(status=Clone.Status.QUEUED)
    started = time.monotonic()
    tasks.enqueue_clone(clone)  # autocommit here: published at once
    clone = wait_until(lambda: Clone.objects.filter(pk=clone.pk, status__in=Clone.FINISHED).first(), timeout=60)
    if rule["action"] == "delay":
        # Let the abandoned call finish its work at the sandbox: it must not leave a second voice.
        time.sleep(max(0.0, started + rule["latency"] + 1 - time.monotonic()))
    voices = sandbox.voices()
    outcome, detail = expected(route, fault)

    assert clone.sample and clone.sample.read()[:4] == b"RIFF"  # nothing lost
    assert len(sandbox.calls("voice.clone")) <= 2 and len(sandbox.calls("files.upload")) <= 2
    if outcome == "failed":
        assert clone.status == Clone.Status.FAILED
        assert str(clone.failure_reason).startswith(detail), clone.failure_reason
        assert clone.error_code == rule["code"]
        assert voices == [] and not clone.voice_id
        return
    assert clone.status == Clone.Status.READY, (clone.error_code, clone.error_message)
    assert [v["voice"] for v in voices] == [clone.voice_id]  # exactly one voice, ours
    assert str(clone.failure_reason) == ""
    if outcome == "ready":
        assert clone.preview_route == detail and clone.preview_audio.read()[:4] == b"RIFF"
    else:
        assert clone.preview_unavailable and not clone.preview_audio and clone.error_code
