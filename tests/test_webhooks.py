"""Webhooks: endpoints per user (page and API), signed deliveries by a real worker, retries, and the
guard that keeps requests off private, loopback and link-local addresses (after DNS, on every redirect)."""

import ipaddress
import json
import re
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from clones import bigmodel, pipeline
from clones.models import Clone
from clones.signals import clone_finished
from studio.models import Export
from studio.tasks import run_export
from tests.conftest import wait_until
from tests.receiver import receiving
from tests.samples import wav_bytes
from tests.test_studio_export import make_project
from webhooks import transport
from webhooks.models import Delivery, Endpoint
from webhooks.signing import SIGNATURE_HEADER, signature, verify
from webhooks.tasks import deliver, send_test_event

LOOPBACK_ONLY_1 = ["127.0.0.1/32"]
# The voice is made, but no route gives its preview: ready, "preview unavailable".
NO_PREVIEW_ROUTE = [
    {"route": "download", "action": "error", "status": 404, "times": None},
    {"route": "audio.speech", "action": "error", "status": 400, "code": "1214", "times": None},
]


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def add_endpoint(client, url, events=("clone.ready", "clone.failed", "utterance.ready", "utterance.failed")):
    return client.post(reverse("webhooks:endpoints"), {"url": url, "description": "mine", "events": list(events)})


# -- signing -----------------------------------------------------------------------------


def test_a_signature_verifies_only_for_its_body_secret_and_a_recent_time():
    body, now = b'{"id":"1"}', int(time.time())
    header = signature("whsec_a", now, body)
    assert verify("whsec_a", header, body)
    assert not verify("whsec_b", header, body)
    assert not verify("whsec_a", header, body + b" ")
    old = signature("whsec_a", now - 301, body)
    assert not verify("whsec_a", old, body), "a replayed request older than five minutes is refused"
    assert not verify("whsec_a", "garbage", body)


# -- the address guard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1"],
)  # fmt: skip
def test_private_loopback_and_link_local_addresses_are_refused(address):
    with pytest.raises(transport.AddressNotAllowed):
        transport.resolve_public(address, 80)


def test_a_public_address_passes_and_an_allowed_network_lets_loopback_through():
    assert transport.resolve_public("93.184.216.34", 443) == "93.184.216.34"
    assert transport.resolve_public("127.0.0.1", 80, [ipaddress.ip_network("127.0.0.0/8")]) == "127.0.0.1"


@pytest.mark.django_db
def test_a_host_name_is_checked_after_resolution_and_nothing_is_sent(user):
    with receiving() as receiver, override_settings(WEBHOOK_ALLOWED_NETWORKS=[]):
        port = receiver.url.rsplit(":", 1)[1]
        endpoint = Endpoint.objects.create(owner=user, url=f"http://localhost:{port}/hook")
        delivery = send_test_event(endpoint)
        deliver(delivery.pk)
    delivery.refresh_from_db()
    assert receiver.requests == []
    assert "not a public address" in delivery.error and delivery.response_status is None
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 1  # retried, in case DNS changes


@pytest.mark.django_db
def test_a_redirect_to_a_refused_address_is_not_followed(user):
    with (
        receiving("127.0.0.2") as inside,
        receiving() as outside,
        override_settings(WEBHOOK_ALLOWED_NETWORKS=LOOPBACK_ONLY_1),
    ):
        outside.answers = [(307, {"Location": f"{inside.url}/metadata"})]
        endpoint = Endpoint.objects.create(owner=user, url=f"{outside.url}/hook")
        delivery = send_test_event(endpoint)
        deliver(delivery.pk)
    delivery.refresh_from_db()
    assert len(outside.requests) == 1 and inside.requests == []
    assert "127.0.0.2" in delivery.error


@pytest.mark.django_db
def test_an_allowed_redirect_is_followed_with_the_same_signed_post(user):
    with receiving() as first, receiving() as second:
        first.answers = [(308, {"Location": f"{second.url}/moved"})]
        endpoint = Endpoint.objects.create(owner=user, url=f"{first.url}/hook")
        delivery = send_test_event(endpoint)
        deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED and delivery.response_status == 200
    (request,) = second.requests
    assert request["method"] == "POST" and request["path"] == "/moved"
    assert verify(endpoint.secret, request["headers"][SIGNATURE_HEADER], request["body"])


# -- the page and the API -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_private_url_is_refused_with_a_translated_message_and_no_row(logged_in):
    response = add_endpoint(logged_in, "http://169.254.169.254/latest/meta-data/")
    assert "private or local address" in response.text, "link-local stays refused when loopback is allowed"
    with override_settings(WEBHOOK_ALLOWED_NETWORKS=[]):
        response = add_endpoint(logged_in, "http://10.0.0.5/hook")
        assert "private or local address" in response.text
        with translation.override("zh-hans"):
            response = logged_in.post(
                reverse("webhooks:endpoints"), {"url": "http://10.0.0.5/", "events": ["clone.ready"]},
                headers={"Accept-Language": "zh-hans"},
            )  # fmt: skip
        assert "私有或本地地址" in response.text
    assert response.status_code == 200 and Endpoint.objects.count() == 0


@pytest.mark.django_db
def test_a_user_sees_only_their_own_endpoints(logged_in, other_user):
    theirs = Endpoint.objects.create(owner=other_user, url="http://127.0.0.1:9/theirs")
    assert logged_in.get(reverse("webhooks:detail", args=[theirs.pk])).status_code == 404
    assert logged_in.post(reverse("webhooks:send_test", args=[theirs.pk])).status_code == 404
    assert logged_in.post(reverse("webhooks:delete", args=[theirs.pk])).status_code == 404
    assert "theirs" not in logged_in.get(reverse("webhooks:endpoints")).text
    assert Endpoint.objects.filter(pk=theirs.pk).exists() and not Delivery.objects.exists()


@pytest.mark.django_db
def test_the_api_adds_lists_tests_and_deletes_endpoints(client, api_token, user):
    auth = {"Authorization": f"Bearer {api_token}"}
    with receiving() as receiver:
        created = client.post(
            "/api/v1/webhooks", {"url": f"{receiver.url}/hook", "events": ["clone.ready"]},
            content_type="application/json", headers=auth,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        endpoint = created.json()
        assert endpoint["events"] == ["clone.ready"] and endpoint["secret"].startswith("whsec_")
        assert [e["id"] for e in client.get("/api/v1/webhooks", headers=auth).json()] == [endpoint["id"]]
        test = client.post(f"/api/v1/webhooks/{endpoint['id']}/test", headers=auth)
        assert test.status_code == 202 and test.json()["event"] == "webhook.test"
        deliver(Delivery.objects.get().pk)
        (log,) = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries", headers=auth).json()
        assert log["status"] == "delivered" and log["response_status"] == 200 and log["attempts"] == 1
    refused = client.post(
        "/api/v1/webhooks", {"url": "http://192.168.1.1/"}, content_type="application/json", headers=auth
    )
    with override_settings(WEBHOOK_ALLOWED_NETWORKS=[]):
        refused = client.post(
            "/api/v1/webhooks", {"url": "http://192.168.1.1/"}, content_type="application/json", headers=auth
        )
    assert refused.status_code == 400 and refused.json()["error"]["fields"]["url"]
    assert client.delete(f"/api/v1/webhooks/{endpoint['id']}", headers=auth).status_code == 204
    assert not Endpoint.objects.exists()


# -- delivery by the real worker -----------------------------------------------------------


def submit_clone(client, name="Hooked"):
    response = client.post(
        reverse("clones:create"),
        {"language": "en", "visibility": "private", "consent": "on", "name": name, "transcript": "",
         "preview_text": "Hello there, hooked voice.", "sample": SimpleUploadedFile("s.wav", wav_bytes(5))},
    )  # fmt: skip
    assert response.status_code == 302
    return Clone.objects.get(name=name)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_clone_made_by_the_pipeline_reaches_the_endpoint_signed_and_shaped_like_the_api(
    logged_in, api_token, sandbox, celery_worker
):
    auth = {"Authorization": f"Bearer {api_token}"}
    with receiving() as receiver:
        assert (
            add_endpoint(logged_in, f"{receiver.url}/hook", events=["clone.ready", "utterance.ready"]).status_code
            == 302
        )
        endpoint = Endpoint.objects.get()
        clone = submit_clone(logged_in)
        wait_until(lambda: receiver.requests, timeout=60)
        spoken = logged_in.post(
            f"/api/v1/clones/{clone.uuid}/speak", {"text": "Hello from a hook."}, content_type="application/json",
            headers=auth,
        )  # fmt: skip
        assert spoken.status_code == 201, spoken.text
        wait_until(lambda: len(receiver.requests) == 2, timeout=60)
    first, second = receiver.requests
    for request in (first, second):
        assert verify(endpoint.secret, request["headers"][SIGNATURE_HEADER], request["body"])
    body = json.loads(first["body"])
    api = logged_in.get(f"/api/v1/clones/{clone.uuid}", headers=auth).json()
    assert first["headers"]["Voiceclone-Event"] == body["type"] == "clone.ready"
    assert body["data"].keys() == api.keys() and body["data"]["uuid"] == str(clone.uuid)
    assert body["data"]["status"] == "ready" and body["data"]["links"]["url"].endswith(f"/api/v1/clones/{clone.uuid}")
    speech = json.loads(second["body"])
    assert speech["type"] == "utterance.ready" and speech["data"]["uuid"] == spoken.json()["uuid"]
    assert speech["data"]["links"]["audio"]
    page = logged_in.get(endpoint.get_absolute_url()).text
    assert "clone.ready" in page and "Delivered" in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_failed_clone_is_told_only_to_endpoints_that_listen_for_failures(logged_in, other_user, sandbox,
                                                                            celery_worker):  # fmt: skip
    sandbox.set_faults([{"route": "voice.clone", "action": "error", "status": 400, "code": "1301", "times": None}])
    with receiving() as ready_only, receiving() as failures:
        add_endpoint(logged_in, f"{ready_only.url}/hook", events=["clone.ready"])
        add_endpoint(logged_in, f"{failures.url}/hook", events=["clone.failed"])
        Endpoint.objects.create(owner=other_user, url=f"{failures.url}/someone-else")
        clone = submit_clone(logged_in)
        wait_until(lambda: failures.requests, timeout=60)
        wait_until(lambda: not Delivery.objects.filter(status="pending").exists())
    (request,) = failures.requests
    body = json.loads(request["body"])
    assert request["path"] == "/hook" and body["type"] == "clone.failed" and body["data"]["uuid"] == str(clone.uuid)
    assert body["data"]["failure_reason"] and ready_only.requests == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_failing_receiver_is_retried_until_it_answers(logged_in, celery_worker):
    with receiving() as receiver:
        receiver.answers = [(500, {}), (503, {}), (200, {})]
        add_endpoint(logged_in, f"{receiver.url}/hook")
        logged_in.post(reverse("webhooks:send_test", args=[Endpoint.objects.get().pk]))
        delivery = wait_until(lambda: Delivery.objects.filter(status="delivered").first(), timeout=30)
    assert delivery.attempts == 3 and len(receiver.requests) == 3
    ids = {request["headers"]["Voiceclone-Delivery"] for request in receiver.requests}
    assert ids == {str(delivery.uuid)}, "every retry is the same delivery, so a receiver can drop repeats"


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_receiver_that_never_answers_well_is_given_up_after_the_retry_window(logged_in, celery_worker):
    with receiving() as receiver:
        receiver.answers = [(500, {})]
        add_endpoint(logged_in, f"{receiver.url}/hook")
        logged_in.post(reverse("webhooks:send_test", args=[Endpoint.objects.get().pk]))
        delivery = wait_until(lambda: Delivery.objects.filter(status="failed").first(), timeout=30)
    # WEBHOOK_RETRY_FOR_SECONDS is 3 in the tests: 0.2 + 0.4 + 0.8 + 1.6 s of pauses fit, 3.2 more would not.
    assert delivery.attempts == len(receiver.requests) >= 3
    assert delivery.response_status == 500 and delivery.error == "HTTP 500"


# -- studio exports -------------------------------------------------------------------------


def export_via_api(client, auth, project):
    response = client.post(
        f"/api/v1/studio/projects/{project.uuid}/exports", {"format": "wav"}, content_type="application/json",
        headers=auth,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_studio_export_built_by_the_worker_reaches_the_endpoint_signed_and_shaped_like_the_api(
    client, user, api_token, celery_worker
):
    auth = {"Authorization": f"Bearer {api_token}"}
    fine = make_project(user, [(1.0, 0.3), (1.5, 0.2)])
    broken = make_project(user, [(1.0, 0.3)])
    take = broken.lines.get().chosen_take
    with take.audio.open("wb") as audio:
        audio.write(b"this is no audio at all")
    with receiving() as receiver:
        created = client.post(
            "/api/v1/webhooks", {"url": f"{receiver.url}/hook", "events": ["project.export.ready",
                                                                            "project.export.failed"]},
            content_type="application/json", headers=auth,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        endpoint = Endpoint.objects.get()
        ready = export_via_api(client, auth, fine)
        wait_until(lambda: receiver.requests, timeout=60)
        failed = export_via_api(client, auth, broken)
        wait_until(lambda: len(receiver.requests) == 2, timeout=60)
        wait_until(lambda: not Delivery.objects.filter(status="pending").exists())
    first, second = receiver.requests
    for request in (first, second):
        assert verify(endpoint.secret, request["headers"][SIGNATURE_HEADER], request["body"])
    body = json.loads(first["body"])
    api = client.get(f"/api/v1/studio/exports/{ready['uuid']}", headers=auth).json()
    assert first["headers"]["Voiceclone-Event"] == body["type"] == "project.export.ready"
    assert body["id"] == first["headers"]["Voiceclone-Delivery"]
    assert body["data"].keys() == api.keys() and body["data"]["uuid"] == ready["uuid"]
    same = ["status", "format", "duration", "cues", "decoded_takes", "error_message", "differing_lines"]
    assert {k: body["data"][k] for k in same} == {k: api[k] for k in same} and api["status"] == "ready"
    assert body["data"]["links"]["audio"].endswith(f"/api/v1/studio/exports/{ready['uuid']}/audio")
    assert [cue[2] for cue in body["data"]["cues"]] == ["Line 0 words.", "Line 1 words."]
    body = json.loads(second["body"])
    assert body["type"] == "project.export.failed" and body["data"]["uuid"] == failed["uuid"]
    assert body["data"]["status"] == "failed" and body["data"]["error_message"]
    assert body["data"].keys() == api.keys()


@pytest.mark.django_db
def test_export_events_are_offered_on_the_page_and_chosen_like_the_others(logged_in, user):
    page = logged_in.get(reverse("webhooks:endpoints")).text
    assert 'value="project.export.ready"' in page and 'value="project.export.failed"' in page
    with receiving() as receiver:
        assert add_endpoint(logged_in, f"{receiver.url}/hook", events=["project.export.ready"]).status_code == 302
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["project.export.ready"]
    project = make_project(user, [(1.0, 0.3)])
    clone_only = Endpoint.objects.create(owner=user, url="http://127.0.0.1:9/clones", events=["clone.ready"])
    export = Export.objects.create(project=project)
    run_export(export.pk)
    assert [(d.endpoint, d.event) for d in Delivery.objects.all()] == [(endpoint, "project.export.ready")]
    assert not clone_only.deliveries.exists()


@pytest.mark.django_db
def test_an_endpoint_made_before_the_export_events_is_told_to_hear_them_on_its_page_and_by_the_api(
    logged_in, client, user, api_token
):
    endpoint = Endpoint.objects.create(owner=user, url="http://127.0.0.1:9/hook", events=["clone.ready"])
    secret = endpoint.secret
    page = logged_in.get(endpoint.get_absolute_url()).text
    assert re.search(r'value="clone.ready"[^>]*checked', page), "the events it hears are ticked"
    assert re.search(r'value="project.export.ready"[^>]*>', page).group().endswith('id="id_events_4">')
    url = reverse("webhooks:events", args=[endpoint.pk])
    refused = logged_in.post(url, {"events": []})
    assert refused.status_code == 200 and "This field is required." in refused.text
    endpoint.refresh_from_db()
    assert endpoint.events == ["clone.ready"]
    assert logged_in.post(url, {"events": ["clone.ready", "project.export.ready"]}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["clone.ready", "project.export.ready"] and endpoint.secret == secret

    auth = {"Authorization": f"Bearer {api_token}"}
    changed = client.patch(
        f"/api/v1/webhooks/{endpoint.pk}", {"events": ["project.export.failed"]}, content_type="application/json",
        headers=auth,
    )  # fmt: skip
    assert changed.status_code == 200 and changed.json()["events"] == ["project.export.failed"]
    unknown = client.patch(
        f"/api/v1/webhooks/{endpoint.pk}", {"events": ["project.exported"]}, content_type="application/json",
        headers=auth,
    )  # fmt: skip
    assert unknown.status_code in (400, 422)
    endpoint.refresh_from_db()
    assert endpoint.events == ["project.export.failed"]


@pytest.mark.django_db
def test_an_export_finished_by_two_workers_is_saved_and_told_once(user):
    project = make_project(user, [(1.0, 0.3)])
    Endpoint.objects.create(owner=user, url="http://127.0.0.1:9/hook")
    export = Export.objects.create(project=project, status=Export.Status.RUNNING)
    slow = Export.objects.get(pk=export.pk)  # the sweep queued it again while this worker was slow
    assert export.mark_ready()
    assert not slow.fail("Too late") and not slow.mark_ready()
    export.refresh_from_db()
    assert export.status == "ready" and export.error_message == ""
    assert list(Delivery.objects.values_list("event", flat=True)) == ["project.export.ready"]


# -- each transition told once --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_preview_fetched_again_does_not_announce_the_clone_ready_a_second_time(
    logged_in, user, make_clone, sandbox, celery_worker
):
    sandbox.set_faults(NO_PREVIEW_ROUTE)
    with receiving() as receiver:
        add_endpoint(logged_in, f"{receiver.url}/hook")
        clone = submit_clone(logged_in)
        clone = wait_until(lambda: Clone.objects.filter(pk=clone.pk, status="ready").first(), timeout=60)
        assert clone.preview_unavailable
        wait_until(lambda: receiver.requests, timeout=30)
        sandbox.clear_faults()
        assert logged_in.post(reverse("clones:refetch_preview", args=[clone.uuid])).status_code == 302
        wait_until(lambda: Clone.objects.filter(pk=clone.pk, status="ready").exclude(preview_audio="").first(), 60)
        time.sleep(1.0)  # room for a second announcement to be sent, if one were made
        wait_until(lambda: not Delivery.objects.filter(status="pending").exists())
    assert [json.loads(r["body"])["type"] for r in receiver.requests] == ["clone.ready"]
    assert Delivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_clone_that_failed_and_was_retried_into_ready_tells_each_once(logged_in, sandbox, celery_worker):
    sandbox.set_faults([{"route": "voice.clone", "action": "error", "status": 400, "code": "1301", "times": 1}])
    with receiving() as receiver:
        add_endpoint(logged_in, f"{receiver.url}/hook")
        clone = submit_clone(logged_in)
        wait_until(lambda: receiver.requests, timeout=60)
        assert logged_in.post(reverse("clones:retry", args=[clone.uuid])).status_code == 302
        wait_until(lambda: len(receiver.requests) >= 2, timeout=60)
        time.sleep(1.0)
        wait_until(lambda: not Delivery.objects.filter(status="pending").exists())
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["type"] for b in bodies] == ["clone.failed", "clone.ready"]
    assert len({b["id"] for b in bodies}) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("step", ["cloning", "fetching_preview"])
def test_the_sweep_giving_up_on_a_clone_its_worker_just_finished_changes_and_tells_nothing(user, make_clone, step):
    Endpoint.objects.create(owner=user, url="http://127.0.0.1:9/hook")
    clone = make_clone(status=step, sample_file_id="f-1", voice_id="v-1" if step == "fetching_preview" else "")
    stale = Clone.objects.get(pk=clone.pk)  # what the sweep read before the worker finished
    clone.voice_id = "v-1"
    clone.preview_audio.save(f"{clone.uuid}.wav", ContentFile(wav_bytes(1)), save=False)
    clone.save_step("voice_id", "preview_audio")
    pipeline.fail(stale, bigmodel.ServerError("Gave up after 6 attempts"))
    clone.refresh_from_db()
    assert clone.status == Clone.Status.READY and clone.error_message == ""
    assert list(Delivery.objects.values_list("event", flat=True)) == ["clone.ready"]


@pytest.mark.django_db
def test_a_transition_reported_twice_is_one_delivery_with_one_event_id(user, make_clone):
    endpoint = Endpoint.objects.create(owner=user, url="http://127.0.0.1:9/hook")
    clone = make_clone()
    first = clone_finished.send(sender=Clone, clone=clone)
    again = clone_finished.send(sender=Clone, clone=clone)
    (delivery,) = Delivery.objects.all()
    assert delivery.key == f"clone.ready:{clone.uuid}"
    assert [d.pk for _receiver, ds in first + again if isinstance(ds, list) for d in ds] == [delivery.pk] * 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(endpoint=endpoint, event="clone.ready", payload={}, key=delivery.key)
    # Test events carry no key: each is new.
    send_test_event(endpoint), send_test_event(endpoint)
    assert Delivery.objects.filter(event="webhook.test").count() == 2
