"""Every provider fault on every pipeline call: the clone ends right, calls are counted, no voice is paid twice.

A dedicated worker with a short read timeout runs the pipeline; the sandbox injects one fault per case.
"""

import time

import pytest

from clones import tasks
from clones.models import Clone
from tests.conftest import start_worker, stop_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

UNAVAILABLE = "The voice service is unavailable or overloaded right now. Please try again later."
ACCOUNT = "The site's voice service account cannot be used right now (for example, its balance is in arrears)."
REJECTED = "The voice service rejected this sample or text."
CONTENT = "The voice service refused this content under its content policy."

# Short, so timeouts are quick; long enough that an ordinary call on a busy machine never hits it.
READ_TIMEOUT = 3
# The sandbox sleeps this long, then does the work: the answer comes after the worker gave up.
LATE = READ_TIMEOUT + 2

# name -> (fault rule, retryable, failure message when it is not)
FAULTS = {
    "429-1302": ({"action": "error", "status": 429, "code": "1302"}, True, None),
    "429-1305": ({"action": "error", "status": 429, "code": "1305"}, True, None),
    "429-1113": ({"action": "error", "status": 429, "code": "1113"}, False, ACCOUNT),
    "500": ({"action": "error", "status": 500}, True, None),
    "503": ({"action": "error", "status": 503}, True, None),
    "timeout": ({"action": "delay", "latency": LATE}, True, None),
    "dropped": ({"action": "drop"}, True, None),
    "malformed": ({"action": "malformed"}, True, None),
    "400-1214": ({"action": "error", "status": 400, "code": "1214"}, False, REJECTED),
    "401-1002": ({"action": "error", "status": 401, "code": "1002"}, False, ACCOUNT),
    "400-1301": ({"action": "error", "status": 400, "code": "1301"}, False, CONTENT),
}
STEPS = ["files.upload", "voice.clone", "files.content"]


@pytest.fixture(scope="module")
def fault_worker(celery_worker):
    with celery_worker.paused():
        worker = start_worker({"BIGMODEL_READ_TIMEOUT": str(READ_TIMEOUT)})
        yield worker
        stop_worker(worker)


@pytest.mark.parametrize("route", STEPS)
@pytest.mark.parametrize("fault", FAULTS)
def test_fault(fault_worker, sandbox, make_clone, route, fault):
    rule, retryable, message = FAULTS[fault]
    sandbox.set_faults([{"route": route, "times": 1, **rule}])
    clone = make_clone(status=Clone.Status.QUEUED)
    started = time.monotonic()
    tasks.enqueue_clone(clone)  # autocommit here: published at once
    clone = wait_until(lambda: Clone.objects.filter(pk=clone.pk, status__in=Clone.FINISHED).first(), timeout=60)
    if rule["action"] == "delay":
        # Let the abandoned call finish its work at the sandbox: it must not leave a second voice.
        time.sleep(max(0.0, started + rule["latency"] + 1 - time.monotonic()))
    calls = {step: len(sandbox.calls(step)) for step in [*STEPS, "voice.list", "download"]}
    voices = sandbox.voices()

    # A preview that the file API refuses for good is fetched through the voice list instead.
    falls_back = route == "files.content" and not retryable
    if retryable or falls_back:
        assert clone.status == Clone.Status.READY, (clone.error_code, clone.error_message)
        assert [v["voice"] for v in voices] == [clone.voice_id]  # exactly one voice, ours
        assert clone.preview_audio.read()[:4] == b"RIFF"
        expected = {"files.upload": 1, "voice.clone": 1, "files.content": 1}
        expected[route] = 1 if falls_back else 2
        assert {step: calls[step] for step in STEPS} == expected
        assert calls["download"] == (1 if falls_back else 0)
    else:
        assert clone.status == Clone.Status.FAILED
        assert str(clone.failure_reason).startswith(message)
        assert clone.error_code == rule["code"]
        reached = STEPS[: STEPS.index(route) + 1]
        assert {step: calls[step] for step in STEPS} == {step: int(step in reached) for step in STEPS}
        assert voices == []
