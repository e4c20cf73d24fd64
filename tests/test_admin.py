"""Staff run Voiceclone from the Django admin."""

import pytest
from django.core.files.base import ContentFile

from clones.models import Clone

pytestmark = pytest.mark.django_db


@pytest.fixture
def clone(user):
    clone = Clone(
        owner=user,
        name="Findable",
        provider_model="glm-tts-clone",
        preview_text="x",
        sample_format="wav",
        voice_id="3af4deae-494f-5af1-82a9-0643d4dba0ad",
        status=Clone.Status.FAILED,
        error_code="1113",
    )
    clone.sample.save("x.wav", ContentFile(b"RIFF"), save=False)
    clone.save()
    return clone


def test_changelist_searches_by_provider_voice_id(admin_client, clone):
    response = admin_client.get("/admin/clones/clone/", {"q": "3af4deae"})
    assert response.status_code == 200
    assert "Findable" in response.text and "1113" in response.text


def test_changelist_filters_by_status(admin_client, clone):
    assert "Findable" in admin_client.get("/admin/clones/clone/", {"status__exact": "failed"}).text
    assert "Findable" not in admin_client.get("/admin/clones/clone/", {"status__exact": "ready"}).text


def test_provider_ids_are_read_only(admin_client, clone):
    response = admin_client.get(f"/admin/clones/clone/{clone.pk}/change/")
    assert response.status_code == 200
    assert 'name="voice_id"' not in response.text and "3af4deae" in response.text
