"""The studio over the JSON API: the same forms, helpers and queue as the pages, real worker and sandbox,
and every answer checked against the served OpenAPI document."""

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from studio.models import Export, Line, Project, Take
from tests.conftest import wait_until
from tests.test_studio_export import make_project, run_export
from voiceclone_site.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
API = "/api/v1"


@pytest.fixture
def auth(api_token):
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token}"}


@pytest.mark.django_db
def test_unknown_speakers_are_listed_with_the_web_forms_message(client, auth):
    body = {"title": "Talk", "script": "Alice: Hi.\nBob: Hello.", "speakers": {"Alice": "xiaochen"}}
    response = client.post(f"{API}/studio/projects", body, content_type="application/json", **auth)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == "Choose a voice for each speaker the script names: Bob."
    assert error["fields"]["speakers"] == ["Choose a voice for this speaker: Bob."]
    bad_pause = {"title": "T", "script": "Wait [pause 11s] now."}
    response = client.post(f"{API}/studio/projects", bad_pause, content_type="application/json", **auth)
    assert response.json()["error"]["fields"]["script"] == ["Line 1: A pause of 11 s is too long: at most 10 s."]
    assert Project.objects.count() == 0


@pytest.mark.django_db
def test_other_peoples_projects_are_not_found(client, auth, other_user):
    project = make_project(other_user, [(1.0, 0.3)])
    take = project.ordered_lines()[0].chosen_take
    for method, path in [
        ("get", f"/studio/projects/{project.uuid}"),
        ("post", f"/studio/projects/{project.uuid}/generate"),
        ("get", f"/studio/takes/{take.uuid}"),
        ("post", f"/studio/takes/{take.uuid}/choose"),
        ("delete", f"/studio/takes/{take.uuid}"),
    ]:
        response = getattr(client, method)(API + path, **auth)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", path
    assert Take.objects.count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_whole_studio_through_the_api(client, auth, sandbox, celery_worker):
    body = {
        "title": "Talk",
        "script": "Alice: Hi there.\n旁白：他笑了。",
        "speakers": {"Alice": "xiaochen", "旁白": ""},
    }
    created = client.post(f"{API}/studio/projects", body, content_type="application/json", **auth)
    assert created.status_code == 201, created.json()
    project = created.json()
    assert [(line["speaker"], line["voice"]) for line in project["lines"]] == [("Alice", "xiaochen"), ("旁白", None)]

    generated = client.post(project["links"]["generate"], **auth).json()
    assert generated["queued"] == 2 and len(generated["takes"]) == 2

    def lines():
        return client.get(project["links"]["url"], **auth).json()["lines"]

    wait_until(lambda: all(line["state"] == "ready" for line in lines()), 90)
    first = lines()[0]
    line_url = f"{API}/studio/projects/{project['uuid']}/lines/{first['id']}"
    edited = client.patch(line_url, {"text": "Hi there, again."}, content_type="application/json", **auth).json()
    assert edited["state"] == "stale" and edited["takes"][0]["stale"] is True

    take = client.post(f"{line_url}/regenerate", **auth).json()
    wait_until(lambda: client.get(take["links"]["url"], **auth).json()["finished"], 60)
    line = client.post(f"{API}/studio/takes/{first['takes'][0]['uuid']}/choose", **auth).json()
    assert line["chosen_take"] == first["takes"][0]["uuid"]

    export = client.post(project["links"]["exports"], {"format": "mp3"}, content_type="application/json", **auth)
    assert export.status_code == 201
    export = wait_until(lambda: (e := client.get(export.json()["links"]["url"], **auth).json())["finished"] and e)
    assert export["status"] == "ready" and export["cues"][0][2] == "Hi there."
    vtt = client.get(export["links"]["vtt"], **auth)
    assert vtt["Content-Type"] == "text/vtt; charset=utf-8" and "他笑了。" in vtt.text
    audio = client.get(export["links"]["audio"], **auth)
    assert audio["Content-Type"] == "audio/mpeg"


@pytest.mark.django_db
def test_studio_operations_fit_the_schema(api_token, user):
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        _check_studio_operations(api_token, user)
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def _check_studio_operations(api_token, user):
    headers = {"Authorization": f"Bearer {api_token}"}
    project = make_project(user, [(1.0, 0.3), (1.0, 0.3)])
    export = Export.objects.create(project=project)
    run_export(export.pk)
    line = project.ordered_lines()[0]
    take = line.chosen_take
    spare = Take.objects.create(
        line=line, text=line.text, voice="tongtong", voice_label="T", revision=1, status="ready"
    )
    spare.audio.save("x.wav", ContentFile(take.audio.open("rb").read()))
    uuid, line_id = str(project.uuid), str(line.pk)
    calls = [
        ("POST", "/api/v1/studio/projects", {}, {"body": {"title": "New", "script": "Hello."}}, 201),
        ("GET", "/api/v1/studio/projects", {}, {}, 200),
        ("GET", "/api/v1/studio/projects/{uuid}", {"uuid": uuid}, {}, 200),
        (
            "PATCH",
            "/api/v1/studio/projects/{uuid}/lines/{line_id}",
            {"uuid": uuid, "line_id": line_id},
            {"body": {"pause_after": 1.5, "locked": True}},
            200,
        ),  # fmt: skip
        (
            "POST",
            "/api/v1/studio/projects/{uuid}/lines/{line_id}/regenerate",
            {"uuid": uuid, "line_id": line_id},
            {},
            201,
        ),  # fmt: skip
        ("POST", "/api/v1/studio/projects/{uuid}/generate", {"uuid": uuid}, {}, 202),
        ("GET", "/api/v1/studio/takes/{uuid}", {"uuid": str(take.uuid)}, {}, 200),
        ("GET", "/api/v1/studio/takes/{uuid}/audio", {"uuid": str(take.uuid)}, {}, 200),
        ("POST", "/api/v1/studio/takes/{uuid}/choose", {"uuid": str(spare.uuid)}, {}, 200),
        ("POST", "/api/v1/studio/projects/{uuid}/exports", {"uuid": uuid}, {"body": {"format": "wav"}}, 201),
        ("GET", "/api/v1/studio/exports/{uuid}", {"uuid": str(export.uuid)}, {}, 200),
        ("GET", "/api/v1/studio/exports/{uuid}/audio", {"uuid": str(export.uuid)}, {}, 200),
        ("GET", "/api/v1/studio/exports/{uuid}/captions/{kind}", {"uuid": str(export.uuid), "kind": "srt"}, {}, 200),
        ("GET", "/api/v1/studio/exports/{uuid}/captions/{kind}", {"uuid": str(export.uuid), "kind": "vtt"}, {}, 200),
        ("DELETE", "/api/v1/studio/takes/{uuid}", {"uuid": str(take.uuid)}, {}, 204),
        ("DELETE", "/api/v1/studio/projects/{uuid}", {"uuid": uuid}, {}, 204),
    ]
    for method, path, parameters, request, status in calls:
        case = schema[path][method].Case(path_parameters=parameters, **request)
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code == status, (method, path, response.text)
    assert not Line.objects.filter(project__uuid=uuid).exists()
