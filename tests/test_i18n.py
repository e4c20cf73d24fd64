"""The interface ships in English and Simplified Chinese: it follows the browser until someone picks a language."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.core import mail
from django.urls import reverse

from clones.models import Clone, Utterance
from tests.conftest import csp_checked_page

CATALOG = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CHINESE = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.5"}
ENGLISH = {"accept-language": "en-US,en;q=0.9"}


def test_every_message_is_translated_into_chinese():
    with CATALOG.open("rb") as po:
        catalog = read_po(po)
    untranslated = [m.id for m in catalog if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["zh-CN,zh;q=0.9", "zh", "zh-Hans", "zh-SG", "zh-hans-CN"])
def test_chinese_browsers_get_simplified_chinese(client, accept):
    page = client.get(reverse("clones:gallery"), headers={"accept-language": accept})
    assert '<html lang="zh-hans">' in page.text and "音色库" in page.text
    assert "Voice library" not in page.text


@pytest.mark.django_db
def test_other_browsers_get_english(client):
    for accept in ["en-US", "fr-FR,fr", ""]:
        page = client.get(reverse("clones:gallery"), headers={"accept-language": accept})
        assert '<html lang="en">' in page.text and "Voice library" in page.text


@pytest.mark.django_db
def test_language_switcher_remembers_the_choice(client):
    gallery = reverse("clones:gallery")
    # The header's switcher names each language in its own words.
    assert "简体中文" in client.get(gallery, headers=ENGLISH).text

    answer = client.post(reverse("set_language"), {"language": "zh-hans", "next": gallery}, headers=ENGLISH)
    assert answer.status_code == 302 and answer["Location"] == gallery
    cookie = answer.cookies["django_language"]
    assert cookie.value == "zh-hans" and int(cookie["max-age"]) >= 365 * 24 * 3600
    # The choice beats what the browser asks for, on every page.
    assert "音色库" in client.get(gallery, headers=ENGLISH).text
    assert "登录" in client.get(reverse("login"), headers=ENGLISH).text

    client.post(reverse("set_language"), {"language": "en", "next": gallery}, headers=CHINESE)
    assert "Voice library" in client.get(gallery, headers=CHINESE).text


@pytest.mark.django_db
def test_create_form_and_its_errors_in_chinese(client, user):
    client.force_login(user)
    form = client.get(reverse("clones:create"), headers=CHINESE)
    assert "复刻音色" in form.text and "声音样本" in form.text and "试听文本" in form.text

    refused = client.post(reverse("clones:create"), {"name": "Ada", "preview_text": "你好"}, headers=CHINESE)
    assert refused.status_code == 200
    assert "请确认你有权复刻这个声音。" in refused.text
    assert "这个字段是必填项。" in refused.text  # Django's own messages come in Chinese too
    assert not Clone.objects.exists()


@pytest.mark.django_db
def test_clone_page_status_and_dates_in_chinese(client, user, make_clone):
    clone = make_clone(name="我的声音", transcript="你好", voice_id="3af4deae-494f-5af1-82a9-0643d4dba0ad")
    Clone.objects.filter(pk=clone.pk).update(created_at=datetime(2026, 3, 7, 14, 5, tzinfo=UTC))
    Utterance.objects.create(owner=user, clone=clone, text="你好", status="ready", duration=4.21)
    client.force_login(user)

    page = client.get(clone.get_absolute_url(), headers=CHINESE).text
    for text in ["状态", "已就绪", "试听", "样本", "文字稿", "用这个音色生成语音", "分享链接", "删除这个音色"]:
        assert text in page, text
    assert "WAV，4.0 秒" in page and "4.2 秒" in page
    assert "2026年3月7日 14:05" in page
    assert "Status" not in page and "Preview" not in page

    english = client.get(clone.get_absolute_url(), headers=ENGLISH).text
    assert "WAV, 4.0 s" in english and "March 7, 2026, 2:05 p.m." in english

    mine = client.get(reverse("clones:mine"), headers=CHINESE).text
    assert "2026年3月7日 14:05" in mine and "我的复刻" in mine
    assert "03/07/2026 2:05 p.m." in client.get(reverse("clones:mine"), headers=ENGLISH).text

    status = client.get(reverse("clones:status", args=[clone.uuid]), headers=CHINESE).json()
    assert status["label"] == "已就绪"
    queued = make_clone(name="Queued", status=Clone.Status.QUEUED)
    assert client.get(reverse("clones:status", args=[queued.uuid]), headers=CHINESE).json()["label"] == "排队中"
    assert client.get(reverse("clones:status", args=[queued.uuid]), headers=ENGLISH).json()["label"] == "Queued"


@pytest.mark.django_db
def test_utterance_status_formats_its_duration_in_the_page_language(client, user):
    utterance = Utterance.objects.create(owner=user, system_voice="tongtong", text="Hi", status="ready", duration=12.34)
    client.force_login(user)
    url = reverse("clones:utterance_status", args=[utterance.uuid])
    chinese = client.get(url, headers=CHINESE).json()
    assert chinese["label"] == "已就绪" and chinese["duration_label"] == "12.3 秒"
    assert client.get(url, headers=ENGLISH).json()["duration_label"] == "12.3 s"


@pytest.mark.django_db
def test_password_reset_mail_in_the_language_of_the_request(client, user):
    client.post(reverse("password_reset"), {"email": user.email}, headers=CHINESE)
    client.post(reverse("password_reset"), {"email": user.email}, headers=ENGLISH)
    chinese, english = mail.outbox
    assert chinese.subject == "重置你的 Voiceclone 密码"
    assert "ada，你好" in chinese.body and "请打开以下链接设置新密码" in chinese.body
    assert re.search(r"http://testserver/accounts/reset/\S+/\S+/", chinese.body)
    assert english.subject == "Reset your Voiceclone password" and "Hello ada," in english.body


@pytest.mark.django_db
def test_missing_page_in_chinese(client):
    missing = client.get("/clones/00000000-0000-0000-0000-000000000000/", headers=CHINESE)
    assert missing.status_code == 404 and "页面不存在" in missing.text


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_clone_page_in_a_chinese_browser_and_switching_to_english(browser, live_server, client, user, make_clone):
    clone = make_clone(name="晨读的声音", voice_id="3af4deae-494f-5af1-82a9-0643d4dba0ad")
    client.force_login(user)
    session = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}
    with csp_checked_page(browser, locale="zh-CN") as page:  # Chromium sends Accept-Language: zh-CN
        page.context.add_cookies([session])
        page.goto(f"{live_server.url}{clone.get_absolute_url()}")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert page.get_by_role("heading", name="晨读的声音").is_visible()
        assert page.locator("#status-label").inner_text() == "已就绪"
        for heading in ["试听", "用这个音色生成语音", "设置"]:
            assert page.get_by_role("heading", name=heading).is_visible(), heading
        assert page.get_by_role("link", name="我的复刻").is_visible()
        assert page.get_by_role("button", name="生成语音").is_visible()

        page.get_by_role("button", name="English").click()
        page.wait_for_url(f"**{clone.get_absolute_url()}")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("#status-label").inner_text() == "Ready"
        assert page.get_by_role("heading", name="Speak with this voice").is_visible()

        # The choice sticks while navigating, though the browser still asks for Chinese.
        page.get_by_role("link", name="Library").click()
        page.wait_for_url(f"{live_server.url}/gallery/")
        assert page.get_by_role("heading", name="Voice library").is_visible()
        page.goto(f"{live_server.url}{reverse('clones:mine')}")
        assert page.get_by_role("heading", name="My clones").is_visible()
        assert page.locator("html").get_attribute("lang") == "en"
