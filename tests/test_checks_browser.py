"""Checked speech in a real browser (Debian's Chromium through Playwright), with a real worker and the
sandbox: a line the sandbox mis-speaks on its first try shows "Differs" with what was expected and what
was heard side by side, the automatic retry passes, and the badge turns "Checked" without a reload."""

import pytest

from clones.models import Utterance
from studio.models import Line, Take
from tests.conftest import csp_checked_page, wait_until
from tests.test_browser import log_in
from tests.test_studio_browser import log_in_chinese

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]

TEXT = "Every take is heard back and checked before anyone listens."


def make_script(page, live_server, title, text, make="Make the lines", title_label="Title", script_label="Script"):
    page.goto(f"{live_server.url}/studio/new/")
    page.get_by_label(title_label).fill(title)
    page.get_by_label(script_label).fill(text)
    page.get_by_role("button", name=make).click()
    page.wait_for_url("**/studio/*/")


def test_a_mis_spoken_line_differs_then_its_automatic_retry_is_checked(page, live_server, sandbox, celery_worker, user):
    log_in(page, live_server, user)
    make_script(page, live_server, "Heard back", TEXT)
    # The first take drops a word; every later call is slow enough for the page to show "Differs" first.
    sandbox.set_faults(
        [
            {"route": "audio.speech", "action": "mispeak", "mispeak": "drop", "times": 1, "seed": 3},
            {"route": "audio.speech", "action": "delay", "latency": 2.5, "times": None},
        ]
    )
    page.get_by_role("button", name="Generate all").click()
    page.wait_for_url("**/studio/*/")
    line = page.locator("li.line").first
    line.locator(".check-badge", has_text="Differs").wait_for(timeout=60_000)

    # Expected and heard side by side, the missing word marked on the expected side only.
    first = Take.objects.order_by("pk").first()
    [span] = first.spans
    compare = line.locator(".check-compare")
    assert compare.locator(".expected mark").inner_text() == span["expected"]
    assert compare.locator(".heard mark").count() == 0
    assert span["expected"] not in compare.locator(".heard").inner_text().split()
    assert line.get_by_role("button", name="Accept anyway").is_visible()

    # The retry made on its own passes its check; the badge turns without a reload.
    line.locator(".check-badge", has_text="Checked").wait_for(timeout=60_000)
    assert line.locator(".check-compare").count() == 0
    assert line.locator("li.take").count() == 2
    retry = line.locator("li.take").nth(1)
    assert retry.locator(".chosen-mark").count() == 1
    assert retry.locator(".auto-retry").inner_text() == "made again automatically"
    assert line.locator("li.take").nth(0).locator(".take-check").inner_text().startswith("Differs")
    assert Line.objects.get().chosen_take == Take.objects.order_by("pk").last()


def test_accept_anyway_in_chinese(browser, live_server, sandbox, celery_worker, user, settings):
    with csp_checked_page(browser, locale="zh-CN") as page:
        log_in_chinese(page, live_server, user)
        make_script(page, live_server, "听写", "今天天气很好，我们去公园散步吧。", "生成台词", "标题", "脚本")
        sandbox.set_faults([{"route": "audio.speech", "action": "mispeak", "mispeak": "repeat", "times": None}])
        page.get_by_role("button", name="全部生成").click()
        page.wait_for_url("**/studio/*/")
        line = page.locator("li.line").first
        line.locator(".check-badge", has_text="不一致").wait_for(timeout=60_000)
        # Three takes (the first and two retries), all mis-spoken: the badge stays until the owner accepts.
        wait_until(lambda: Take.objects.filter(status="ready").exclude(check_status="pending").count() == 3, 60)
        wait_until(lambda: not Take.objects.filter(check_status__in=Take.CHECK_PENDING).exists(), 60)
        page.reload()
        line = page.locator("li.line").first
        assert line.locator(".check-compare .heard mark").count() == 1  # the repeated character
        line.get_by_role("button", name="仍然接受").click()
        page.wait_for_url("**/studio/*/#line-*")
        line = page.locator("li.line").first
        assert line.locator(".check-badge").inner_text() == "已接受"
        assert page.locator(".export-differs").count() == 0


def test_the_dictionary_page_adds_a_rule_and_tries_it(page, live_server, sandbox, celery_worker, user):
    log_in(page, live_server, user)
    page.get_by_role("link", name="Dictionary").click()
    page.wait_for_url("**/dictionary/")
    page.get_by_label("Word or phrase").fill("SQL")
    page.get_by_label("Say it as").fill("sequel")
    page.get_by_label("Whole words only").check()
    page.get_by_role("button", name="Add the rule").click()
    page.wait_for_url("**/dictionary/")
    row = page.locator("tr.rule")
    assert row.count() == 1 and "sequel" in row.inner_text() and "whole words" in row.inner_text()
    row.get_by_role("button", name="Try it").click()
    page.wait_for_url("**/dictionary/?tried=*")
    assert "Trying “SQL”" in page.locator(".tried").inner_text()
    wait_until(lambda: Utterance.objects.filter(status="ready").exists(), 60)
    page.reload()
    assert page.locator(".tried .sent-text").inner_text() == "sequel"
    page.locator(".tried audio").wait_for(state="attached")


def test_speech_on_the_speak_page_is_heard_back_spoken_again_and_turns_checked(
    browser, live_server, sandbox, celery_worker, user
):
    with csp_checked_page(browser) as page:
        log_in(page, live_server, user)
        page.goto(f"{live_server.url}/speak/")
        assert page.get_by_label("Hear it back and check it").is_checked()  # as the account says, by default
        # The first speech drops a word; the new attempt is slow enough for the page to show it being made.
        sandbox.set_faults(
            [
                {"route": "audio.speech", "action": "mispeak", "mispeak": "drop", "times": 1, "seed": 3},
                {"route": "audio.speech", "action": "delay", "latency": 2.5, "times": None},
            ]
        )
        page.get_by_label("Text").fill(TEXT)
        page.get_by_label("Voice").select_option("tongtong")
        page.get_by_role("button", name="Speak").click()
        entry = page.locator("#utterances .utterance").first
        entry.locator(".check-badge", has_text="Checking").wait_for(timeout=60_000)
        # Heard back, found to differ, spoken again and heard again: the badge turns without a reload.
        entry.locator(".check-badge", has_text="Checked").wait_for(timeout=60_000)
        assert "Spoken 2 times; the closest is kept." in entry.locator(".utterance-check").inner_text()
        utterance = Utterance.objects.get()
        assert utterance.check_status == "passed" and utterance.speech_attempts.count() == 2
        # The player now plays the attempt that was kept.
        entry.locator("audio[src]").wait_for(state="attached", timeout=20_000)
