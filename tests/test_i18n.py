"""The interface ships in English and Simplified Chinese, and the Chinese catalog is complete."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.urls import reverse

CATALOG = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_message_is_translated_into_chinese():
    with CATALOG.open("rb") as po:
        catalog = read_po(po)
    untranslated = [m.id for m in catalog if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []


@pytest.mark.django_db
def test_pages_follow_the_browser_language(client):
    chinese = client.get(reverse("clones:gallery"), headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-hans">' in chinese.text and "音色广场" in chinese.text
    english = client.get(reverse("clones:gallery"), headers={"accept-language": "en-US"})
    assert "Voice gallery" in english.text


@pytest.mark.django_db
def test_language_switcher_remembers_the_choice(client):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "音色广场" in client.get(reverse("clones:gallery"), headers={"accept-language": "en"}).text
