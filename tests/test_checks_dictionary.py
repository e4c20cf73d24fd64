"""The pronunciation dictionary: rules rewrite text before it is spoken (one-off speech and the studio),
limited to whole words, a language or a voice; pages to add, delete, import and export them as CSV; and
"try it", which speaks one rule's result through the worker, charged."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Usage
from checks.compare import compare, normalize
from checks.models import PronunciationRule, apply_rules, spoken_form
from clones.models import Clone, Utterance
from tests.conftest import wait_until


def rule(**fields):
    return PronunciationRule(**{"phrase": "", "replacement": "", "whole_word": False, "language": "", **fields})


def test_normalizing_takes_away_what_speech_cannot_carry():
    assert normalize("Hello, WORLD!") == normalize("hello world")
    assert normalize("ＡＢＣ　１２３") == normalize("abc 123")  # full width
    assert normalize("銀行處理") == normalize("银行处理")  # traditional and simplified
    assert normalize("2024年") == list("二零二四年") and normalize("共25个") == list("共二十五个")
    assert normalize("3 apples") == ["three", "apples"] and normalize("50%") == ["fifty", "percent"]
    assert compare("It costs 3.5 dollars.", "it costs three point five dollars").error_rate == 0.0


def test_mixed_text_is_measured_by_characters_and_by_words():
    result = compare("我们用Python写代码。", "我用 python 写代码")
    assert result.cer == pytest.approx(1 / 6, abs=1e-4) and result.wer == 0.0
    assert result.error_rate == pytest.approx(1 / 7, abs=1e-4)
    assert result.spans == [{"op": "delete", "expected": "们", "heard": ""}]
    words = compare("the quick brown fox", "the quick fox fox")
    assert words.wer == pytest.approx(1 / 4, abs=1e-4)  # brown heard as fox and words.cer is None


def test_rules_apply_in_one_pass_longest_first_whole_words_and_languages():
    rules = [
        rule(phrase="SQL", replacement="sequel", whole_word=True),
        rule(phrase="重庆", replacement="虫庆"),
        rule(phrase="重", replacement="众", language="en"),  # never in Chinese text
        rule(phrase="AI", replacement="A.I.", language="en"),
    ]
    assert apply_rules("SQL and SQLite, sql", rules) == "sequel and SQLite, sequel"
    assert apply_rules("我在重庆银行", rules) == "我在虫庆银行"
    assert apply_rules("AI in Chinese 人工智能AI", rules) == "AI in Chinese 人工智能AI"
    assert apply_rules("AI rules", rules) == "A.I. rules"
    # One pass: a rule's result is not rewritten by another rule.
    assert apply_rules("ab", [rule(phrase="a", replacement="b"), rule(phrase="b", replacement="c")]) == "bc"


@pytest.mark.django_db
def test_a_voices_rules_apply_to_it_alone(user, other_user):
    mine = Clone.objects.create(owner=user, name="Mine", voice_name="mine", status="ready", voice_id="v-1")
    PronunciationRule.objects.create(owner=user, phrase="GIF", replacement="jif", clone=mine)
    PronunciationRule.objects.create(owner=user, phrase="SQL", replacement="sequel")
    PronunciationRule.objects.create(owner=other_user, phrase="GIF", replacement="ghif")
    assert spoken_form("GIF in SQL", user, mine) == "jif in sequel"
    assert spoken_form("GIF in SQL", user, None) == "GIF in sequel"
    assert spoken_form("GIF in SQL", other_user, None) == "ghif in SQL"


@pytest.mark.django_db
def test_the_dictionary_page_adds_refuses_and_deletes_rules(client, user):
    client.force_login(user)
    page = reverse("checks:dictionary")
    response = client.post(page, {"phrase": "重庆", "replacement": "虫庆", "language": "zh"})
    assert response.status_code == 302
    response = client.post(page, {"phrase": "重庆", "replacement": "虫庆", "language": "zh"})
    assert response.status_code == 400
    assert "You already have a rule for this phrase, voice and language." in response.text
    response = client.post(page, {"phrase": "SQL", "replacement": "SQL"})
    assert response.status_code == 400 and "the rule would change nothing" in response.text
    response = client.post(page, {"phrase": "  ", "replacement": "x"})
    assert response.status_code == 400
    assert PronunciationRule.objects.count() == 1
    [saved] = PronunciationRule.objects.all()
    assert "虫庆" in client.get(page).text
    assert client.post(reverse("checks:delete_rule", args=[saved.pk])).status_code == 302
    assert not PronunciationRule.objects.exists()


@pytest.mark.django_db
def test_rules_go_out_and_come_back_as_csv(client, user, other_user):
    client.force_login(user)
    Clone.objects.create(owner=user, name="Narrator", voice_name="narrator", status="ready", voice_id="v-2")
    upload = "phrase,replacement,whole_word,language,voice\nSQL,sequel,yes,en,\n重庆,虫庆,no,zh,Narrator\n"
    response = client.post(reverse("checks:import"), {"file": SimpleUploadedFile("r.csv", upload.encode())})
    assert response.status_code == 302
    exported = client.get(reverse("checks:export"))
    assert exported["Content-Type"].startswith("text/csv")
    assert exported.content.decode().replace("\r\n", "\n") == (
        "phrase,replacement,whole_word,language,voice\nSQL,sequel,yes,en,\n重庆,虫庆,no,zh,Narrator\n"
    )
    # A bad file says what is wrong, line by line, and adds nothing.
    bad = "phrase,replacement,whole_word,language,voice\nA,,no,,\nB,b,maybe,,\nC,c,no,fr,\nD,d,no,,Nobody\n"
    response = client.post(reverse("checks:import"), {"file": SimpleUploadedFile("r.csv", bad.encode())})
    assert response.status_code == 400
    for message in (
        "Line 2: a rule needs a phrase and a replacement.",
        "Line 3: whole_word must be yes or no.",
        "Line 4: language must be zh, en or empty.",
        "Line 5: you have no voice named “Nobody”.",
    ):
        assert message in response.text
    response = client.post(reverse("checks:import"), {"file": SimpleUploadedFile("r.csv", b"\xff\xfe\x00")})
    assert response.status_code == 400 and "The file is not UTF-8 text." in response.text
    assert PronunciationRule.objects.filter(owner=user).count() == 2
    # Nobody else's rules are reachable.
    client.force_login(other_user)
    assert client.get(reverse("checks:export")).content.decode().count("\n") == 1
    rule_pk = PronunciationRule.objects.filter(owner=user).first().pk
    assert client.post(reverse("checks:delete_rule", args=[rule_pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_try_it_speaks_the_rules_result_charged(client, user, sandbox, celery_worker):
    client.force_login(user)
    saved = PronunciationRule.objects.create(owner=user, phrase="SQL", replacement="sequel")
    response = client.post(reverse("checks:try_rule", args=[saved.pk]))
    utterance = Utterance.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"?tried={utterance.uuid}")
    assert Usage.objects.get(user=user, kind=Usage.Kind.SPEECH_CHARS).amount == len("sequel")
    utterance = wait_until(lambda: Utterance.objects.filter(pk=utterance.pk, status="ready").first(), 60)
    assert utterance.text == "SQL" and utterance.sent_text == "sequel"
    assert len(sandbox.calls("audio.speech")) == 1
    page = client.get(response["Location"])
    assert "sequel" in page.text and f"/utterances/{utterance.uuid}/audio/" in page.text


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_one_off_speech_is_sent_as_the_rules_rewrite_it(client, user, sandbox, celery_worker):
    client.force_login(user)
    PronunciationRule.objects.create(owner=user, phrase="SQL", replacement="sequel", whole_word=True)
    response = client.post(reverse("clones:speak"), {"voice": "tongtong", "text": "SQL is not SQLite.", "speed": 1,
                                                    "volume": 1})  # fmt: skip
    assert response.status_code in (200, 302)
    utterance = wait_until(lambda: Utterance.objects.filter(status="ready").first(), 60)
    assert utterance.sent_text == "sequel is not SQLite."
