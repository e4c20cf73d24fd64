"""Prometheus metrics: protected, by view, and summed over the web and the real worker processes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import QuotaExceeded, Usage, charge
from clones.provider_slots import provider_slot
from tests.conftest import wait_until
from tests.samples import wav_bytes

TOKEN = "metrics-secret-for-tests"


def scrape(client):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.status_code
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []


@pytest.mark.django_db
def test_metrics_are_hidden_without_the_token_or_an_allowed_address(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    with override_settings(METRICS_ALLOWED_NETWORKS=["10.0.0.0/8"]):
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
    with override_settings(METRICS_TOKEN=""):
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.django_db
def test_requests_are_timed_by_the_view_that_answered(client):
    labels = {"view": "clones:gallery", "method": "GET", "status": "200"}
    unmatched = {"view": "<unmatched>", "method": "GET", "status": "404"}
    before = scrape(client)
    client.get(reverse("clones:gallery"))
    client.get(reverse("clones:gallery"), {"q": "anything"})
    client.get("/no-such-page/")
    after = scrape(client)
    count = "voiceclone_http_request_duration_seconds_count"
    assert value(after, count, **labels) == value(before, count, **labels) + 2
    assert value(after, count, **unmatched) == value(before, count, **unmatched) + 1
    # One series per view, never one per URL: a clone's UUID must not become a label.
    assert not any("/clones/" in str(key) for key in after)


@pytest.mark.django_db
def test_quota_refusals_are_counted_by_kind(client, user, settings):
    settings.RATE_LIMIT_PER_MINUTE = 1
    before = value(scrape(client), "voiceclone_quota_refusals_total", code="rate_limited")
    with transaction.atomic():
        charge(user, Usage.Kind.SPEECH_CHARS, 10)
    with pytest.raises(QuotaExceeded), transaction.atomic():
        charge(user, Usage.Kind.SPEECH_CHARS, 10)
    samples = scrape(client)
    assert value(samples, "voiceclone_quota_refusals_total", code="rate_limited") == before + 1


@pytest.mark.django_db
def test_provider_slots_in_use_are_read_at_scrape_time(client):
    assert value(scrape(client), "voiceclone_provider_slots_in_use") == 0
    with provider_slot():
        assert value(scrape(client), "voiceclone_provider_slots_in_use") == 1
    assert value(scrape(client), "voiceclone_provider_slots") == 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_the_worker_process_s_provider_calls_tasks_and_spending_show_in_the_web_s_scrape(
    client, user, sandbox, celery_worker
):
    before = scrape(client)
    client.force_login(user)
    response = client.post(
        reverse("clones:create"),
        {"language": "en", "visibility": "private", "consent": "on", "name": "Counted", "transcript": "",
         "preview_text": "Hello there, counted voice.", "sample": SimpleUploadedFile("s.wav", wav_bytes(5))},
    )  # fmt: skip
    assert response.status_code == 302
    from clones.models import Clone

    wait_until(lambda: Clone.objects.filter(status="ready").exists(), timeout=60)
    after = wait_until(
        lambda: (s := scrape(client))
        and value(s, "voiceclone_task_duration_seconds_count", task="clones.tasks.process_clone", outcome="success")
        > value(before, "voiceclone_task_duration_seconds_count", task="clones.tasks.process_clone", outcome="success")
        and s
    )

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("voiceclone_provider_call_duration_seconds_count", route="voice.clone", status="200", code="-") == 1
    assert grew("voiceclone_provider_call_duration_seconds_count", route="files.upload", status="200", code="-") == 1
    assert grew("voiceclone_usage_total", kind="clone") == 1
    assert grew("voiceclone_clones_finished_total", status="ready") == 1


@pytest.mark.django_db
def test_every_metric_the_grafana_dashboard_plots_is_one_we_export(client):
    import json
    import re

    from tests.conftest import ROOT

    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    plotted = {
        re.sub(r"_(bucket|count|sum)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"voiceclone_\w+", target["expr"])
    }
    # Every family we define, whether or not it has samples yet: the instruments and the live gauges.
    from prometheus_client.metrics import MetricWrapperBase

    from metrics import instruments
    from metrics.live import LiveCollector

    defined = {
        metric._name + ("_total" if metric._type == "counter" else "")
        for metric in vars(instruments).values()
        if isinstance(metric, MetricWrapperBase)
    } | {family.name for family in LiveCollector().collect()}
    assert len(plotted) >= 10 and plotted <= defined, plotted - defined
