"""System voices come from the provider's OFFICIAL list, through a cache a worker fills and pages read."""

import json
import threading

import pytest
from django.core.cache import caches
from django.urls import reverse
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from clones import bigmodel, system_voices
from clones.models import SYSTEM_VOICES, Utterance
from clones.tasks import refresh_system_voices
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def empty_provider_cache():
    caches["provider"].clear()
    yield
    caches["provider"].clear()


@pytest.fixture
def provider_with_a_new_voice():
    """A provider whose OFFICIAL list has a voice our built-in list does not know."""
    listed = [
        {"voice": "tongtong", "voice_name": "彤彤", "voice_type": "OFFICIAL", "download_url": "", "create_time": ""},
        {"voice": "xiaoxin", "voice_name": "小新", "voice_type": "OFFICIAL", "download_url": "", "create_time": ""},
    ]

    def app(environ, start_response):
        body = json.dumps({"voice_list": listed})
        return Response(body, content_type="application/json")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/api/paas/v4"
    server.shutdown()


@pytest.mark.worker
def test_the_beat_task_fills_the_cache_from_the_provider_and_pages_read_it(client, user, sandbox, celery_worker):
    refresh_system_voices.delay()
    wait_until(system_voices.from_provider, timeout=30)
    assert len(sandbox.calls("voice.list")) == 1
    official = [v.voice for v in bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key).list_voices(
        voice_type="OFFICIAL")]  # fmt: skip
    assert [voice for voice, _ in system_voices.choices()] == official

    client.force_login(user)
    page = client.get(reverse("clones:speak"))
    assert page.status_code == 200 and "Tongtong (default)" in page.text
    assert len(sandbox.calls("voice.list")) == 2  # our own listing above: the page called nothing


def test_a_voice_only_the_provider_lists_is_offered_and_spoken(client, user, provider_with_a_new_voice):
    with bigmodel.BigModelClient(provider_with_a_new_voice, "key") as provider:
        system_voices.refresh(provider)
    client.force_login(user)
    page = client.get(reverse("clones:speak"))
    assert 'value="xiaoxin"' in page.text and "小新" in page.text
    assert "Tongtong (default)" in page.text  # a voice we know keeps its translated label
    assert 'value="chuichui"' not in page.text  # the provider's list, not ours
    response = client.post(reverse("clones:speak"), {"voice": "xiaoxin", "text": "你好。", "speed": 1, "volume": 1})
    assert response.status_code == 302
    assert Utterance.objects.get().system_voice == "xiaoxin"


def test_the_built_in_list_is_offered_when_the_provider_call_fails(client, user, sandbox):
    sandbox.set_faults([{"route": "voice.list", "action": "error", "status": 500, "times": None}])
    assert refresh_system_voices() == 0
    assert not system_voices.from_provider()
    assert system_voices.choices() == list(SYSTEM_VOICES)
    client.force_login(user)
    assert 'value="luodo"' in client.get(reverse("clones:speak")).text


def test_a_failed_refresh_keeps_the_list_fetched_before(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key) as provider:
        system_voices.refresh(provider)
    sandbox.set_faults([{"route": "voice.list", "action": "error", "status": 429, "code": "1302", "times": None}])
    refresh_system_voices()
    assert system_voices.from_provider()
