"""Security: CSP, login throttling, production settings, upload limits, and the API key never leaks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clones.models import Clone
from tests.samples import wav_bytes

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get(reverse("clones:gallery"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_templates_have_no_inline_scripts_or_styles():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and "style=" not in text and "<style" not in text, template


def test_forms_need_a_csrf_token(user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(reverse("clones:create"), {}).status_code == 403


def test_login_is_throttled_after_five_failures(client, user):
    codes = [client.post(reverse("login"), {"username": "ada", "password": "wrong"}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]  # the fifth failure locks the account out from here
    locked = client.post(reverse("login"), {"username": "ada", "password": "correct horse battery"})
    assert locked.status_code == 429 and "Too many attempts" in locked.text


def test_deploy_check_is_clean_under_production_settings(tmp_path):
    secret_key = "production-secret-key-with-plenty-of-entropy-7Q-0123456789"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voiceclone_site.settings",
        "DATA_DIR": str(tmp_path),
        "HTTPS": "true",
        "DEBUG": "false",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "voice.example.com",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_oversized_upload_is_stopped_while_streaming(client, user, settings):
    settings.SAMPLE_MAX_BYTES = 50_000
    client.force_login(user)
    response = client.post(
        reverse("clones:create"),
        {"name": "Big", "preview_text": "Hi.", "language": "en", "visibility": "private", "consent": "on",
         "sample": SimpleUploadedFile("big.wav", wav_bytes(4))},  # 128 KB
    )  # fmt: skip
    assert response.status_code == 200
    assert "The file is larger than the limit of 48.8\xa0KB." in response.text
    assert Clone.objects.count() == 0


def test_far_too_large_upload_is_refused_unread_with_only_that_said(client, user, settings):
    settings.SAMPLE_MAX_BYTES = 50_000
    client.force_login(user)
    response = client.post(
        reverse("clones:create"),
        {"name": "Big", "preview_text": "Hi.", "language": "en", "visibility": "private", "consent": "on",
         "sample": SimpleUploadedFile("big.wav", wav_bytes(20))},  # 640 KB: over the limit by its Content-Length
    )  # fmt: skip
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["sample"]  # the other fields were never read: no noise
    assert "The file is larger than the limit of 48.8\xa0KB." in response.text
    assert Clone.objects.count() == 0


def test_user_text_is_escaped_everywhere(client, make_clone, user):
    clone = make_clone(name="<script>alert(1)</script>", visibility="public")
    for url in (reverse("clones:gallery"), clone.get_absolute_url(), clone.get_share_url()):
        text = client.get(url).text
        assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
