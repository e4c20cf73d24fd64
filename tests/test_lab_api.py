"""The lab in the JSON API: joined sample parts, takes, listening results and the score, in the OpenAPI document."""

import pytest
from django.urls import reverse

from accounts.models import Usage
from clones.models import Clone
from lab.models import ListeningRound, SimilarityScore
from tests.test_lab_takes import joined_clone  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_clones_lab_results_list_its_parts_takes_rounds_and_score(client, api_token, joined_clone):  # noqa: F811
    SimilarityScore.objects.create(clone=joined_clone, score=0.91, model="m", seconds=0.4)
    listening = ListeningRound.start(joined_clone, joined_clone.owner, shared=False)
    listening.record("a" if listening.original_is == "b" else "b", listening.created_at)

    data = client.get(f"/api/v1/clones/{joined_clone.uuid}/lab", **auth(api_token)).json()

    assert [p["name"] for p in data["sample_parts"]] == ["take-0.wav", "take-1.wav", "take-2.wav"]
    assert all(p["quality"]["verdict"] and p["stretches"] for p in data["sample_parts"])
    assert data["takes"] == []
    assert data["listening"] == {"answered": 1, "correct": 0, "fooled": 1, "compared": 0, "preferred": 0}
    assert data["similarity"]["score"] == 0.91 and data["similarity"]["band"] == "close"


def test_a_take_made_through_the_api_is_charged_and_grouped(client, api_token, joined_clone):  # noqa: F811
    response = client.post(f"/api/v1/clones/{joined_clone.uuid}/takes", **auth(api_token))

    assert response.status_code == 201, response.content
    sibling = Clone.objects.get(uuid=response.json()["uuid"])
    assert Usage.objects.filter(kind="clone").count() == 2
    takes = client.get(f"/api/v1/clones/{joined_clone.uuid}/lab", **auth(api_token)).json()["takes"]
    assert [(t["uuid"], t["number"], t["is_main"]) for t in takes] == [
        (str(joined_clone.uuid), 1, True),
        (str(sibling.uuid), 2, False),
    ]


def test_another_users_clone_is_not_found(client, other_user, joined_clone):  # noqa: F811
    from accounts.models import ApiToken

    token = ApiToken.issue(other_user, "tests")[1]
    response = client.get(f"/api/v1/clones/{joined_clone.uuid}/lab", **auth(token))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_the_openapi_document_describes_the_lab(client):
    schema = client.get(reverse("api-1:openapi-json")).json()
    assert "/api/v1/clones/{uuid}/lab" in schema["paths"] and "/api/v1/clones/{uuid}/takes" in schema["paths"]
    lab = schema["components"]["schemas"]["LabOut"]["properties"]
    assert {"sample_parts", "takes", "listening", "similarity"} <= set(lab)


def test_a_clone_from_three_recordings_through_the_api(client, api_token, django_capture_on_commit_callbacks):
    from tests.test_lab_assembly import recording

    form = {"name": "API joined", "preview_text": "Hello.", "consent": "true"}
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        response = client.post(
            "/api/v1/lab/clones", {**form, "recordings": [recording(i) for i in range(3)]}, **auth(api_token)
        )

    assert response.status_code == 201, response.content
    clone = Clone.objects.get(uuid=response.json()["uuid"])
    assert len(enqueued) == 1 and response.json()["quality"]["format"] == "wav"
    parts = client.get(f"/api/v1/clones/{clone.uuid}/lab", **auth(api_token)).json()["sample_parts"]
    assert [p["name"] for p in parts] == ["take-0.wav", "take-1.wav", "take-2.wav"]


def test_one_bad_recording_among_five_through_the_api_is_named(client, api_token):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_lab_assembly import recording

    files = [recording(i) for i in range(4)] + [SimpleUploadedFile("clip.mp4", b"\0\0\0\x18ftypisom" + b"\0" * 100)]
    form = {"name": "API joined", "preview_text": "Hello.", "consent": "true", "recordings": files}
    response = client.post("/api/v1/lab/clones", form, **auth(api_token))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"]["recordings"][0].startswith("“clip.mp4”: ")
    assert not Clone.objects.exists() and not Usage.objects.exists()


def test_the_api_reads_five_recordings_of_almost_the_limit_each(client, api_token, settings):
    from tests.test_lab_assembly import recording

    settings.SAMPLE_MAX_BYTES = 2_500_000
    files = [recording(i, pause=18.0) for i in range(5)]
    assert sum(f.size for f in files) > 4 * settings.SAMPLE_MAX_BYTES
    form = {"name": "Big", "preview_text": "Hello.", "consent": "true", "recordings": files}
    response = client.post("/api/v1/lab/clones", form, **auth(api_token))

    assert response.status_code == 201, response.content


def test_the_api_takes_kept_windows_and_names_the_file_of_one_out_of_range(client, api_token):
    from tests.test_lab_assembly import recording

    form = {"name": "API windowed", "preview_text": "Hello.", "consent": "true"}
    refused = client.post(
        "/api/v1/lab/clones", {**form, "recordings": [recording(i) for i in range(2)], "windows": "1:2-3"},
        **auth(api_token),
    )  # fmt: skip
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["recordings"] == [
        "“take-1.wav”: the kept window must be at least 3 s long, as a sample must."
    ]
    assert not Clone.objects.exists() and not Usage.objects.exists()

    response = client.post(
        "/api/v1/lab/clones", {**form, "recordings": [recording(i) for i in range(2)], "windows": "1:4-8.5"},
        **auth(api_token),
    )  # fmt: skip
    assert response.status_code == 201, response.content
    parts = client.get(f"/api/v1/clones/{response.json()['uuid']}/lab", **auth(api_token)).json()["sample_parts"]
    assert [(s["start"], s["end"]) for s in parts[1]["stretches"]] == [(4.0, 8.5)]
    schema = client.get(reverse("api-1:openapi-json")).json()
    body = schema["paths"]["/api/v1/lab/clones"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert "index:start-end" in body["schema"]["properties"]["windows"]["description"]
