"""A new voice's preview: download_url first, file content next, speech last, against the sandbox."""

import io

import pytest

from clones import bigmodel
from sandbox.testing import running_sandbox
from tests.samples import wav_bytes


@pytest.fixture
def client(sandbox):
    with bigmodel.BigModelClient(sandbox.base_url, sandbox.api_key, read_timeout=5) as client:
        yield client


@pytest.fixture(scope="module")
def lenient_sandbox(tmp_path_factory):
    """A sandbox whose file content serves every file, as the docs say the real one does not."""
    with running_sandbox(tmp_path_factory.mktemp("lenient"), file_content="all") as server:
        yield server


def make_voice(client):
    file_id = client.upload_file(io.BytesIO(wav_bytes(4)), "sample.wav").id
    cloned = client.clone_voice(voice_name="vc_preview", input="Hello there.", file_id=file_id, model="glm-tts-clone")
    return {"voice": cloned.voice, "voice_name": "vc_preview", "file_id": cloned.file_id, "text": "Hello there."}


@pytest.fixture
def new_voice(client):
    return make_voice(client)


def fetch(client, voice, **overrides):
    return client.fetch_preview(**{**voice, "speech_model": "glm-tts", **overrides})


def routes_called(sandbox):
    return {route: len(sandbox.calls(route)) for route in ("voice.list", "download", "files.content", "audio.speech")}


def test_download_url_is_the_first_route_and_goes_without_the_key(client, sandbox, new_voice):
    data, route = fetch(client, new_voice)
    assert route == "download_url" and data[:4] == b"RIFF"
    assert routes_called(sandbox) == {"voice.list": 1, "download": 1, "files.content": 0, "audio.speech": 0}
    assert [call["authorized"] for call in sandbox.calls("download")] == [False]


def test_a_download_refused_without_the_key_is_tried_once_with_it_on_the_api_host(client, sandbox, new_voice):
    sandbox.set_faults([{"route": "download", "action": "error", "status": 401}])
    data, route = fetch(client, new_voice)
    assert route == "download_url"
    assert [call["authorized"] for call in sandbox.calls("download")] == [False, True]


@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_a_failing_download_hands_over_to_file_content_where_it_serves_previews(lenient_sandbox, status):
    lenient_sandbox.reset()
    lenient_sandbox.set_faults([{"route": "download", "action": "error", "status": status, "times": None}])
    with bigmodel.BigModelClient(lenient_sandbox.base_url, lenient_sandbox.api_key, read_timeout=5) as client:
        data, route = fetch(client, make_voice(client))
    assert route == "file_content" and data[:4] == b"RIFF"
    assert routes_called(lenient_sandbox)["audio.speech"] == 0


def test_where_file_content_serves_batch_files_only_a_failing_download_ends_in_speech(client, sandbox, new_voice):
    sandbox.set_faults([{"route": "download", "action": "error", "status": 403, "times": None}])
    data, route = fetch(client, new_voice)
    assert route == "speech" and data[:4] == b"RIFF"
    assert routes_called(sandbox) == {"voice.list": 1, "download": 2, "files.content": 1, "audio.speech": 1}


def test_a_listed_voice_without_a_download_url_hands_over_to_the_next_route(client, sandbox, new_voice):
    sandbox.set_faults([{"route": "voice.list", "action": "missing_field"}])  # download_url, by default
    data, route = fetch(client, new_voice)
    assert route == "speech" and routes_called(sandbox)["download"] == 0


def test_speech_is_the_last_resort(client, sandbox, new_voice):
    sandbox.set_faults(
        [
            {"route": "download", "action": "error", "status": 404, "times": None},
            {"route": "files.content", "action": "error", "status": 400, "code": "1214", "times": None},
        ]
    )
    data, route = fetch(client, new_voice)
    assert route == "speech" and data[:4] == b"RIFF"
    assert routes_called(sandbox)["audio.speech"] == 1


def test_a_voice_without_a_preview_file_goes_from_the_list_to_speech(client, sandbox, new_voice):
    sandbox.set_faults([{"route": "download", "action": "error", "status": 404, "times": None}])
    data, route = fetch(client, new_voice, file_id="")
    assert route == "speech" and routes_called(sandbox)["files.content"] == 0


@pytest.mark.parametrize(
    "speech_fault, retryable",
    [({"status": 500}, True), ({"status": 400, "code": "1214"}, False)],
)
def test_no_route_at_all_is_preview_unavailable(client, sandbox, new_voice, speech_fault, retryable):
    sandbox.set_faults(
        [
            {"route": "download", "action": "error", "status": 404, "times": None},
            {"route": "files.content", "action": "error", "status": 434, "times": None},
            {"route": "audio.speech", "action": "error", "times": None, **speech_fault},
        ]
    )
    with pytest.raises(bigmodel.PreviewUnavailable) as caught:
        fetch(client, new_voice)
    assert caught.value.retryable is retryable
    assert set(caught.value.errors) == {"download_url", "file_content", "speech"}


def test_an_account_error_stops_at_once_instead_of_trying_every_route(client, sandbox, new_voice):
    sandbox.set_faults([{"route": "voice.list", "action": "error", "status": 429, "code": "1313"}])
    with pytest.raises(bigmodel.PlanLimitReached):
        fetch(client, new_voice)
    assert routes_called(sandbox) == {"voice.list": 1, "download": 0, "files.content": 0, "audio.speech": 0}
