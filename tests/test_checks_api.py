"""Checks and the pronunciation dictionary over the JSON API: a take's transcript, error rate and spans,
accepting a take that differs, and the rules; every answer checked against the served OpenAPI document."""

import pytest
from django.urls import reverse

from checks.models import PronunciationRule
from studio.models import Line, Take
from tests.test_api_schema import CHECKS, schema
from tests.test_checks_flow import ENGLISH, generate, project_with, settled

API = "/api/v1"


@pytest.fixture
def auth(api_token):
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token}"}


def call(method, path, parameters, token, **request):
    case = schema[path][method].Case(path_parameters={k: str(v) for k, v in parameters.items()}, **request)
    return case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_takes_check_and_accepting_it_anyway(client, user, api_token, sandbox, celery_worker):
    project = project_with(client, user, ENGLISH)
    sandbox.set_faults([{"route": "audio.speech", "action": "mispeak", "mispeak": "drop", "times": None}])
    generate(client, project)
    takes = settled(project, 3)

    answer = call("GET", "/api/v1/studio/takes/{uuid}", {"uuid": takes[0].uuid}, api_token).json()
    check = answer["check"]
    assert check["status"] == "differs" and check["error_rate"] == pytest.approx(0.1)
    assert check["transcript"] == takes[0].transcript and check["wer"] == pytest.approx(0.1) and check["cer"] is None
    assert [span["op"] for span in check["spans"]] == ["delete"]
    assert answer["sent_text"] == ENGLISH and answer["auto_retry"] == 0

    document = call("GET", "/api/v1/studio/projects/{uuid}", {"uuid": project.uuid}, api_token).json()
    assert document["check_speech"] is True
    assert document["lines"][0]["check"] == "differs"
    assert [take["auto_retry"] for take in document["lines"][0]["takes"]] == [0, 1, 2]

    exported = call("POST", "/api/v1/studio/projects/{uuid}/exports", {"uuid": project.uuid}, api_token,
                    body={"format": "wav"})  # fmt: skip
    assert exported.status_code == 201 and exported.json()["differing_lines"] == [1]

    line = call("POST", "/api/v1/studio/takes/{uuid}/accept", {"uuid": takes[1].uuid}, api_token).json()
    assert line["check"] == "checked" and line["chosen_take"] == str(takes[1].uuid)
    assert Take.objects.get(pk=takes[1].pk).check_status == "accepted"
    assert Line.objects.get(pk=takes[1].line_id).chosen_by_owner
    again = call("POST", "/api/v1/studio/takes/{uuid}/accept", {"uuid": takes[1].uuid}, api_token)
    assert again.status_code == 409 and again.json()["error"]["code"] == "take_not_differing"


@pytest.mark.django_db(transaction=True)
def test_the_dictionary_over_the_api(user, other_user, api_token, client):
    created = call("POST", "/api/v1/dictionary/rules", {}, api_token,
                   body={"phrase": "SQL", "replacement": "sequel", "whole_word": True, "language": "en"})  # fmt: skip
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["phrase"] == "SQL" and rule["whole_word"] is True and rule["voice"] is None
    again = call("POST", "/api/v1/dictionary/rules", {}, api_token,
                 body={"phrase": "SQL", "replacement": "sequel", "whole_word": True, "language": "en"})  # fmt: skip
    assert again.status_code == 400
    assert again.json()["error"]["fields"]["phrase"] == ["You already have a rule for this phrase, voice and language."]
    bad = call("POST", "/api/v1/dictionary/rules", {}, api_token, body={"phrase": "x", "replacement": "y",
                                                                         "language": "fr"})  # fmt: skip
    assert bad.status_code == 400 and "language" in bad.json()["error"]["fields"]
    listed = call("GET", "/api/v1/dictionary/rules", {}, api_token).json()
    assert [r["id"] for r in listed] == [rule["id"]]
    assert call("GET", "/api/v1/dictionary/rules/{rule_id}", {"rule_id": rule["id"]}, api_token).status_code == 200
    # Nobody else's rule is reachable.
    foreign = PronunciationRule.objects.create(owner=other_user, phrase="GIF", replacement="jif")
    missing = call("DELETE", "/api/v1/dictionary/rules/{rule_id}", {"rule_id": foreign.pk}, api_token)
    assert missing.status_code == 404
    assert call("DELETE", "/api/v1/dictionary/rules/{rule_id}", {"rule_id": rule["id"]}, api_token).status_code == 204
    assert list(PronunciationRule.objects.values_list("owner", flat=True)) == [other_user.pk]
    assert reverse("api-1:get_rule", args=[1]).startswith(API)
