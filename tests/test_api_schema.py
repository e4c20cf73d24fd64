"""The served OpenAPI document is the contract: property-based requests (schemathesis) against it find
no server error and no response that breaks it. The interactive docs work under our strict CSP."""

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clones.models import Utterance
from tests.samples import wav_bytes
from voiceclone_site.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def bearer(api_token, make_clone, user):
    """A token, and something of the user's to find: one ready clone with an utterance.

    Requests go straight to the WSGI app inside the test's transaction: as Django's own test client
    does, the connection stays open across requests.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    clone = make_clone(voice_id="voice-1", preview_file_id="file-1")
    Utterance.objects.create(owner=user, clone=clone, text="Hello.")
    yield {"Authorization": f"Bearer {api_token}"}
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_response_fits_the_schema(case, bearer):
    case.call_and_validate(headers=bearer, checks=CHECKS)


@pytest.mark.django_db
def test_real_objects_fit_the_schema(bearer, user):
    """Random ids find nothing and random bytes are no voice: here every operation does its real work."""
    clone, utterance = user.clones.get(), Utterance.objects.get()
    utterance.audio.save("x.wav", ContentFile(wav_bytes(1)))
    sample = {"name": "Ada", "preview_text": "Hello.", "consent": "true", "sample": wav_bytes(4)}
    joined = {"name": "Ada", "preview_text": "Hello.", "consent": "true", "recordings": [wav_bytes(4), wav_bytes(5)]}
    calls = [
        ("POST", "/api/v1/clones", {}, {"body": sample, "media_type": "multipart/form-data"}, 201),
        ("POST", "/api/v1/lab/clones", {}, {"body": joined, "media_type": "multipart/form-data"}, 201),
        ("GET", "/api/v1/clones", {}, {}, 200),
        ("GET", "/api/v1/clones/{uuid}", {"uuid": clone.uuid}, {}, 200),
        ("GET", "/api/v1/clones/{uuid}/preview", {"uuid": clone.uuid}, {}, 200),
        ("POST", "/api/v1/clones/{uuid}/speak", {"uuid": clone.uuid}, {"body": {"text": "Hi.", "speed": 1.5}}, 201),
        ("GET", "/api/v1/clones/{uuid}/lab", {"uuid": clone.uuid}, {}, 200),
        ("POST", "/api/v1/clones/{uuid}/takes", {"uuid": clone.uuid}, {}, 201),
        ("GET", "/api/v1/utterances", {}, {}, 200),
        ("GET", "/api/v1/utterances/{uuid}", {"uuid": utterance.uuid}, {}, 200),
        ("GET", "/api/v1/utterances/{uuid}/audio", {"uuid": utterance.uuid}, {}, 200),
        ("DELETE", "/api/v1/clones/{uuid}", {"uuid": clone.uuid}, {}, 202),
    ]
    for method, path, parameters, request, status in calls:
        case = schema[path][method].Case(path_parameters={k: str(v) for k, v in parameters.items()}, **request)
        response = case.call_and_validate(headers=bearer, checks=CHECKS)
        assert response.status_code == status, (path, response.text)


def test_the_schema_is_served_and_describes_every_endpoint(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["info"]["title"] == "Voiceclone API"
    assert document["components"]["securitySchemes"] == {"TokenAuth": {"type": "http", "scheme": "bearer"}}
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations == {
        ("POST", "/api/v1/clones"),
        ("GET", "/api/v1/clones"),
        ("GET", "/api/v1/clones/{uuid}"),
        ("DELETE", "/api/v1/clones/{uuid}"),
        ("POST", "/api/v1/clones/{uuid}/preview/refetch"),
        ("GET", "/api/v1/clones/{uuid}/preview"),
        ("POST", "/api/v1/clones/{uuid}/speak"),
        ("GET", "/api/v1/clones/{uuid}/lab"),
        ("POST", "/api/v1/lab/clones"),
        ("POST", "/api/v1/clones/{uuid}/takes"),
        ("GET", "/api/v1/utterances"),
        ("GET", "/api/v1/utterances/{uuid}"),
        ("GET", "/api/v1/utterances/{uuid}/audio"),
        # The studio (tests/test_studio_api.py calls each with real objects).
        ("POST", "/api/v1/studio/projects"),
        ("GET", "/api/v1/studio/projects"),
        ("GET", "/api/v1/studio/projects/{uuid}"),
        ("DELETE", "/api/v1/studio/projects/{uuid}"),
        ("POST", "/api/v1/studio/projects/{uuid}/generate"),
        ("PATCH", "/api/v1/studio/projects/{uuid}/lines/{line_id}"),
        ("POST", "/api/v1/studio/projects/{uuid}/lines/{line_id}/regenerate"),
        ("POST", "/api/v1/studio/projects/{uuid}/exports"),
        ("GET", "/api/v1/studio/takes/{uuid}"),
        ("DELETE", "/api/v1/studio/takes/{uuid}"),
        ("POST", "/api/v1/studio/takes/{uuid}/choose"),
        ("POST", "/api/v1/studio/takes/{uuid}/accept"),
        ("GET", "/api/v1/studio/takes/{uuid}/audio"),
        ("GET", "/api/v1/studio/exports/{uuid}"),
        ("GET", "/api/v1/studio/exports/{uuid}/audio"),
        ("GET", "/api/v1/studio/exports/{uuid}/captions/{kind}"),
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("GET", "/api/v1/webhooks/{pk}"),
        ("PATCH", "/api/v1/webhooks/{pk}"),
        ("DELETE", "/api/v1/webhooks/{pk}"),
        ("GET", "/api/v1/webhooks/{pk}/deliveries"),
        ("POST", "/api/v1/webhooks/{pk}/test"),
        # The pronunciation dictionary (tests/test_checks_api.py).
        ("GET", "/api/v1/dictionary/rules"),
        ("POST", "/api/v1/dictionary/rules"),
        ("GET", "/api/v1/dictionary/rules/{rule_id}"),
        ("DELETE", "/api/v1/dictionary/rules/{rule_id}"),
        # The account's settings and keeping one-off speech that differs (tests/test_checks_oneoff.py).
        ("GET", "/api/v1/account/settings"),
        ("PATCH", "/api/v1/account/settings"),
        ("POST", "/api/v1/utterances/{uuid}/accept"),
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_interactive_docs_work_under_the_csp(live_server, page):
    page.goto(f"{live_server.url}/api/v1/docs")
    page.get_by_text("Create a clone").first.wait_for()
    assert page.get_by_role("button", name="Authorize").is_visible()
    # The `page` fixture fails the test on any Content-Security-Policy violation.
