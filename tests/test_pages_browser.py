"""Every page in a real browser: it fits a phone (no sideways scrolling at 390 px, nor 360 px, with long
unbroken text on it), axe-core finds no serious or critical accessibility problem, logged in and out,
in English and Chinese; the menu and the main flows work with the keyboard alone."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from checks.models import PronunciationRule
from clones.models import Clone, Tag, Utterance
from library.models import Showcase, VoiceStats
from studio.models import Line, Project
from tests.conftest import csp_checked_page, wait_until
from tests.samples import wav_bytes
from webhooks.models import Endpoint

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

LONG_WORD = "Supercalifragilisticexpialidocious" * 3  # 102 characters, no place to break
LONG_URL = "https://example.com/" + "a-very-long-path-segment-without-spaces" * 8


@pytest.fixture
def site(make_clone, user, other_user):
    """Pages full of the long unbroken text people do type: names, tags, spoken URLs."""
    mine = make_clone(
        name=LONG_WORD[:100], visibility="public", allow_public_speech=True, transcript=LONG_URL,
        preview_peaks=[0.3, 0.8, 0.5] * 40, preview_duration=6.2,
    )  # fmt: skip
    mine.preview_text = LONG_URL
    mine.save()
    mine.tags.add(Tag.objects.create(name="x" * 40))
    utterance = Utterance(owner=user, clone=mine, text=f"Read this: {LONG_URL}", status="ready", duration=1.0)
    utterance.audio.save("u.wav", ContentFile(wav_bytes(1)), save=False)
    utterance.save()
    Showcase.replace(mine, [utterance])
    VoiceStats.objects.filter(clone=mine).update(likes=12, plays=345)
    theirs = make_clone(owner=other_user, name="Bob's voice", visibility="public")
    ApiToken.issue(user, LONG_WORD[:100])
    project = Project.objects.create(owner=user, title=LONG_WORD[:100])
    Line.objects.create(project=project, position=0, speaker=LONG_WORD[:60], text=f"Read this: {LONG_URL}")
    PronunciationRule.objects.create(owner=user, phrase=LONG_WORD[:100], replacement=LONG_URL[:200])
    endpoint = Endpoint.objects.create(owner=user, url=LONG_URL)
    return {"mine": mine, "theirs": theirs, "utterance": utterance, "project": project, "endpoint": endpoint}


def pages(site, logged_in):
    mine, theirs = site["mine"], site["theirs"]
    common = ["/", reverse("clones:gallery"), theirs.get_absolute_url(), mine.get_share_url(), "/no-such-page/"]
    if not logged_in:
        return [*common, reverse("login"), reverse("password_reset"), reverse("signup")]
    return [
        *common,
        mine.get_absolute_url(),
        reverse("clones:create"),
        reverse("clones:mine"),
        reverse("clones:speak"),
        reverse("library:saved"),
        reverse("account"),
        reverse("api_tokens"),
        reverse("clones:delete", args=[mine.uuid]),
        reverse("lab:new"),
        reverse("lab:listen", args=[mine.uuid]),
        reverse("studio:projects"),
        reverse("studio:create"),
        reverse("studio:history"),
        site["project"].get_absolute_url(),
        reverse("checks:dictionary"),
        reverse("webhooks:endpoints"),
        site["endpoint"].get_absolute_url(),
        reverse("privacy:index"),
    ]


def sign_in(context, live_server, user):
    client = Client()
    client.force_login(user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


def overflow(page):
    """How far the page is wider than the window, in CSS pixels (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("logged_in", [False, True], ids=["visitor", "signed-in"])
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_every_page_fits_a_phone_and_axe_finds_nothing_serious(
    browser, live_server, site, user, locale, logged_in, settings
):
    settings.SIGNUP_ENABLED = True
    problems = []
    with csp_checked_page(browser, locale=locale) as page:
        page.set_viewport_size({"width": 390, "height": 844})
        if logged_in:
            sign_in(page.context, live_server, user)
        for path in pages(site, logged_in):
            response = page.goto(live_server.url + path)
            page.wait_for_load_state("load")
            if response.status != (404 if path == "/no-such-page/" else 200):
                problems.append(f"{path}: answered {response.status}")
            if overflow(page) > 0:
                problems.append(f"{path}: {overflow(page)} px too wide at 390 px")
            problems += [f"{path}: {v}" for v in serious_violations(page)]
            page.set_viewport_size({"width": 360, "height": 740})
            if overflow(page) > 0:
                problems.append(f"{path}: {overflow(page)} px too wide at 360 px")
            page.set_viewport_size({"width": 390, "height": 844})
    assert problems == []


def test_the_menu_opens_and_closes_with_the_keyboard_on_a_phone(page, live_server, site, user):
    sign_in(page.context, live_server, user)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/")
    menu = page.get_by_role("button", name="Menu")
    assert menu.is_visible() and not page.get_by_role("link", name="Speak", exact=True).is_visible()
    assert menu.get_attribute("aria-expanded") == "false"
    for _ in range(3):  # the skip link, the brand, the menu button
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('menu-button')")
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Library"
    page.keyboard.press("Escape")
    assert (
        menu.get_attribute("aria-expanded") == "false"
        and not page.get_by_role("link", name="Speak", exact=True).is_visible()
    )
    assert page.evaluate("document.activeElement.classList.contains('menu-button')")
    # On a wide screen there is no menu: the links are there.
    page.set_viewport_size({"width": 1280, "height": 800})
    assert not menu.is_visible() and page.get_by_role("link", name="Speak", exact=True).is_visible()


def focus_by_tab(page, selector, limit=80):
    """Press Tab until the element matching `selector` has the focus, as someone without a mouse would."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement && document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} was not reached with the Tab key")


@pytest.mark.worker
def test_keyboard_alone_clones_speaks_and_shares(page, live_server, sandbox, celery_worker, user, tmp_path):
    sample = tmp_path / "voice.wav"
    sample.write_bytes(wav_bytes(5, f0=190))
    sign_in(page.context, live_server, user)
    page.goto(live_server.url + reverse("clones:create"))

    focus_by_tab(page, "#id_name")
    page.keyboard.type("Keyboard voice")
    focus_by_tab(page, "#id_sample")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(sample))
    focus_by_tab(page, "#id_preview_text")
    page.keyboard.type("Typed without a mouse.")
    focus_by_tab(page, "#id_consent")
    page.keyboard.press("Space")
    focus_by_tab(page, "button[type=submit].primary")
    page.keyboard.press("Enter")
    page.wait_for_url("**/clones/*/")
    page.locator("#status-label", has_text="Ready").wait_for(timeout=60_000)
    clone = Clone.objects.get(name="Keyboard voice")

    # Speak: the form shows once the clone is ready.
    focus_by_tab(page, "#id_text")
    page.keyboard.type("Hello from the keyboard.")
    assert page.locator("#id_text-count").inner_text() == "24 of 10,000 characters"
    focus_by_tab(page, "#speech button[type=submit]")
    page.keyboard.press("Enter")
    # The page plays it while it is made (streamed, no page load) and lists the stored take at the end.
    wait_until(lambda: Utterance.objects.filter(clone=clone, text="Hello from the keyboard.", status="ready").exists())

    # Share: make it unlisted, save, and copy the link.
    focus_by_tab(page, "#id_visibility")
    page.keyboard.press("ArrowDown")  # private → unlisted
    focus_by_tab(page, ".settings button[type=submit]")
    page.keyboard.press("Enter")
    page.get_by_text("Saved.").wait_for()
    assert Clone.objects.get(pk=clone.pk).visibility == "unlisted"
    focus_by_tab(page, "[data-copy-target=share-url]")
    page.keyboard.press("Enter")
    page.locator("#share-copy-status").filter(has_text="Copied").wait_for()


def test_the_large_play_button_plays_the_preview_and_counts_one_play(page, live_server, site):
    theirs = site["theirs"]
    page.goto(live_server.url + reverse("clones:gallery"))
    button = page.get_by_role("button", name="Play Bob's voice")
    button.focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Pause Bob's voice").wait_for()
    wait_until(lambda: VoiceStats.objects.filter(clone=theirs, plays=1).exists())
    page.keyboard.press("Enter")  # pause, and play again: still the one play today
    page.get_by_role("button", name="Play Bob's voice").wait_for()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Pause Bob's voice").wait_for()
    page.reload()
    page.get_by_role("button", name="Play Bob's voice").click()
    page.get_by_role("button", name="Pause Bob's voice").wait_for()
    assert VoiceStats.objects.get(clone=theirs).plays == 1
