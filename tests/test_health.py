"""`/health/` tells a load balancer whether this process can reach the database, the broker and the storage."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthy_when_database_broker_and_storage_answer(client):
    response = client.get("/health/")
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "broker": True,
        "storage": True,
    }


def test_unavailable_when_the_broker_is_down_without_saying_where_it_is(client, monkeypatch):
    from voiceclone_site.celery import app

    down = "redis://:broker-secret@127.0.0.1:9/0"
    monkeypatch.setattr(app.conf, "broker_url", down)
    # Celery reads CELERY_BROKER_URL from the environment before its own setting (CI's Redis pass sets it).
    monkeypatch.setenv("CELERY_BROKER_URL", down)
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["database"]["ok"] is True
    assert "broker-secret" not in response.text and "127.0.0.1" not in response.text


def test_only_get(client):
    assert client.post("/health/").status_code == 405
