"""The studio in a real browser (Debian's Chromium through Playwright), with a real worker and the sandbox:
make a script, generate it, edit a line, regenerate it, choose the other take, export, and play the export
with its captions in a <video> with a <track>."""

import pytest

from studio.models import Line, Take
from tests.conftest import csp_checked_page, wait_until
from tests.test_browser import log_in, wait_for_js

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]


def line(page, number):
    return page.locator("li.line").nth(number - 1)


def test_edit_regenerate_choose_export_and_play_with_captions(page, live_server, sandbox, celery_worker, user):
    log_in(page, live_server, user)
    page.goto(f"{live_server.url}/studio/new/")
    page.get_by_label("Title").fill("Browser script")
    page.get_by_label("Script").fill("Hello there, this is the first line.\n\nAnd this is the second one.")
    page.get_by_role("button", name="Make the lines").click()
    page.wait_for_url("**/studio/*/")
    assert page.get_by_role("heading", name="Browser script").is_visible()
    assert page.locator("li.line").count() == 2

    # The two calls of "generate all" slow enough (3 s) that a poll a second sees them in progress,
    # even on a loaded machine; the page follows them without a reload.
    sandbox.set_faults([{"route": "audio.speech", "action": "delay", "latency": 3.0, "times": 2}])
    page.get_by_role("button", name="Generate all").click()
    page.wait_for_url("**/studio/*/")
    page.locator(".line-state", has_text="Speaking").first.wait_for(timeout=30_000)
    for number in (1, 2):
        line(page, number).locator(".line-state", has_text="Ready").wait_for(timeout=60_000)
        line(page, number).locator("audio").wait_for(state="attached")

    # Edit the first line: its take is now stale.
    first = line(page, 1)
    first.locator("summary", has_text="Edit").click()
    first.get_by_label("Text").fill("Hello again, this is the first line, edited.")
    first.get_by_role("button", name="Save the line").click()
    page.wait_for_url("**/studio/*/#line-*")
    first = line(page, 1)
    assert first.locator(".line-state").inner_text() == "Changed since its take"
    assert first.locator(".stale-mark").count() == 1

    # Regenerate it: a second take appears without a reload and becomes the chosen one.
    first.get_by_role("button", name="Regenerate").click()
    page.wait_for_url("**/studio/*/#line-*")
    first = line(page, 1)
    first.locator(".line-state", has_text="Ready").wait_for(timeout=60_000)
    assert first.locator("li.take").count() == 2
    assert first.locator("li.take").nth(1).locator(".chosen-mark").count() == 1

    # Choose the other (older) take.
    first.locator("li.take").nth(0).get_by_role("button", name="Choose").click()
    page.wait_for_url("**/studio/*/#line-*")
    first = line(page, 1)
    assert first.locator("li.take").nth(0).locator(".chosen-mark").count() == 1
    line_row = Line.objects.get(position=0)
    assert line_row.chosen_take == Take.objects.filter(line=line_row).order_by("created_at").first()

    # Export, followed without a reload, then play it with its captions.
    page.get_by_role("button", name="Export", exact=True).click()
    page.wait_for_url("**/studio/*/#export")
    video = page.locator("video.export-player")
    video.wait_for(timeout=60_000)
    assert video.locator("track[kind=captions]").count() == 1
    wait_for_js(page, "document.querySelector('video.export-player').readyState >= 1")
    duration = page.evaluate("document.querySelector('video.export-player').duration")
    page.evaluate(
        "(() => { const v = document.querySelector('video.export-player'); v.textTracks[0].mode = 'showing';"
        " v.muted = true; v.play(); })()"
    )
    wait_for_js(page, "document.querySelector('video.export-player').textTracks[0].cues?.length === 2")
    cues = page.evaluate(
        "Array.from(document.querySelector('video.export-player').textTracks[0].cues)"
        ".map(c => [c.startTime, c.endTime, c.text])"
    )
    assert cues[0][2] == "Hello there, this is the first line."  # the chosen take is the older one
    assert cues[1][2] == "And this is the second one."
    assert cues[0][0] == 0 and cues[1][1] == pytest.approx(duration, abs=0.05)
    wait_for_js(page, "document.querySelector('video.export-player').currentTime > 0.3")
    # While it plays, the caption of the moment is the first line's.
    active = page.evaluate("Array.from(document.querySelector('video.export-player').textTracks[0].activeCues || [])"
                           ".map(c => c.text)")  # fmt: skip
    assert active == ["Hello there, this is the first line."]


def test_the_studio_pages_in_chinese(browser, live_server, user):
    with csp_checked_page(browser, locale="zh-CN") as page:
        log_in_chinese(page, live_server, user)
        page.goto(f"{live_server.url}/studio/new/")
        assert page.get_by_role("heading", name="新脚本").is_visible()
        page.get_by_label("标题").fill("对话")
        page.get_by_label("脚本").fill("甲：你好。\n乙：你好吗？")
        page.get_by_role("button", name="生成台词").click()
        assert page.get_by_text("请为脚本中的每位说话人选择声音：甲, 乙。").is_visible()
        page.get_by_label("甲").select_option("xiaochen")
        page.get_by_label("乙").select_option("")
        page.get_by_role("button", name="生成台词").click()
        page.wait_for_url("**/studio/*/")
        assert page.get_by_role("button", name="全部生成").is_visible()
        wait_until(lambda: Line.objects.count() == 2)


def log_in_chinese(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill("correct horse battery")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server.url}/")  # signed in, on the dashboard
