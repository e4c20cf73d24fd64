"""Speech you can trust: what every heard-back take shares (`HeardBack`), the record of each attempt at
one-off speech (`UtteranceAttempt`), and the pronunciation dictionary.

`HeardBack` is the check of a piece of speech, shared by the studio's takes (studio.models.Take) and
one-off speech (clones.models.Utterance): its state, what the recognizer heard, how far that is from the
text, the claim on it while a worker hears it and the recording of the result. The conversation with
the recognizer is checks/hearing.py and the tasks checks/tasks.py; these models import neither, nor any
app's models, so that both clones and studio can build on them without a circle of imports.

The pronunciation dictionary: an owner's rules that rewrite text before it is sent to be spoken.

A rule turns a word or phrase into a sound-alike spelling: a homophone that forces a polyphone's reading
(重庆 -> 虫庆), or how to say an acronym (SQL -> sequel). A rule may be limited to one of the owner's
voices, to whole words, or to text in one language. The rules of one text are applied in one pass, the
longest phrase first, so that a rule never rewrites another's result.
"""

import re

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clones import leases

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def language_of(text):
    """ "zh" for text with any Chinese character, else "en": what a rule's language is matched against."""
    return "zh" if HAN.search(text) else "en"


class HeardBack(models.Model):
    """Speech heard back by the recognizer and compared with the text it should say.

    A subclass has `status` with a READY choice, `lease_expires_at` (clones.leases: a worker holds the
    row while it hears it; the speech is finished by then, so the lease of its making is free) and
    `objects`. A check is claimed (`claim_check`), then recorded (`record_check`) or given up on
    (`check_failed`); the owner may `accept` speech that differs.
    """

    class Check(models.TextChoices):
        PENDING = "pending", _("To check")
        CHECKING = "checking", _("Checking")
        # One-off speech that differed, being spoken again and heard back (checks.tasks.redo_utterance).
        REDOING = "redoing", _("Speaking again")
        PASSED = "passed", _("Checked")
        DIFFERS = "differs", _("Differs")
        ACCEPTED = "accepted", _("Accepted anyway")
        FAILED = "failed", _("Not checked")

    CHECK_PENDING = (Check.PENDING, Check.CHECKING)  # to be heard: what a worker may claim
    CHECK_BUSY = (Check.PENDING, Check.CHECKING, Check.REDOING)  # what a page keeps following
    CHECK_GOOD = (Check.PASSED, Check.ACCEPTED)
    # The fields a check's result sets (take_check_from), saved together.
    CHECK_RESULT = ["check_status", "transcript", "error_rate", "cer", "wer", "check_diff", "checked_at", "check_error"]

    check_status = models.CharField(_("check"), max_length=10, choices=Check, blank=True)
    transcript = models.TextField(_("heard"), blank=True)
    error_rate = models.FloatField(_("error rate"), null=True, blank=True)
    cer = models.FloatField(_("character error rate"), null=True, blank=True)
    wer = models.FloatField(_("word error rate"), null=True, blank=True)
    # [{"op", "expected", "heard"}, ...]: the alignment of the normalized texts (checks.compare).
    check_diff = models.JSONField(_("comparison"), default=list, blank=True)
    check_calls = models.PositiveSmallIntegerField(_("check calls"), default=0)
    check_error = models.TextField(_("check error"), blank=True)
    check_attempts = models.PositiveSmallIntegerField(_("check attempts"), default=0)
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)

    class Meta:
        abstract = True

    def _moved(self, now=None):
        """What an UPDATE sets besides its own fields: `updated_at`, on the models that keep it."""
        return {"updated_at": now or timezone.now()} if hasattr(self, "updated_at") else {}

    def _saved(self, *fields):
        self.save(update_fields=[*fields, *self._moved()])

    def check_state(self):
        """(state, label) of the check as the pages show it: "checked", "differs", "checking" or "unchecked"."""
        if not self.check_status or self.check_status == self.Check.FAILED:
            return "unchecked", gettext("Unchecked")
        if self.check_status in self.CHECK_BUSY:
            return "checking", gettext("Checking")
        if self.check_status == self.Check.DIFFERS:
            return "differs", gettext("Differs")
        if self.check_status == self.Check.ACCEPTED:
            return "checked", gettext("Accepted")
        return "checked", gettext("Checked")

    @property
    def check_busy(self):
        return self.check_status in self.CHECK_BUSY

    @property
    def spans(self):
        return [chunk for chunk in self.check_diff if chunk["op"] != "equal"]

    def compared(self):
        """The expected and the heard text in pieces, the differing ones marked (checks.compare.sides)."""
        # Imported here: checks.compare loads cn2an and zhconv (about a second), which no process should
        # pay for just by loading the models.
        from checks.compare import sides

        return dict(zip(("expected", "heard"), sides(self.check_diff), strict=True))

    @property
    def error_percent(self):
        return floatformat((self.error_rate or 0) * 100, 1)

    def check_rank(self):
        """Lower is better: speech that passed (or was accepted) first, then the lowest error rate."""
        rate = self.error_rate if self.error_rate is not None else 2.0
        return (self.check_status not in self.CHECK_GOOD, rate)

    def claim_check(self):
        """Take the lease for checking; False if the check is done or another worker holds it."""
        now = timezone.now()
        taken = (
            type(self)
            .objects.filter(leases.unheld(now), pk=self.pk, status=self.Status.READY)
            .filter(check_status__in=self.CHECK_PENDING)
            .update(
                check_status=self.Check.CHECKING,
                check_attempts=F("check_attempts") + 1,
                lease_expires_at=leases.lease_deadline(now),
                **self._moved(now),
            )
        )
        if taken:
            # Only what the claim changed: a whole refresh would drop the relations the task fetched with
            # the row (a take's line, project and owner), to be fetched again one query each.
            self.refresh_from_db(fields=["check_status", "check_attempts", "lease_expires_at", *self._moved()])
        return bool(taken)

    def count_check_call(self):
        """One more recognizer call for this check, saved before the call goes out."""
        self.check_calls += 1
        type(self).objects.filter(pk=self.pk).update(check_calls=F("check_calls") + 1)

    def take_check_from(self, comparison):
        """The check's result from a checks.compare.Comparison; it passes within CHECK_MAX_ERROR_RATE."""
        passed = comparison.error_rate <= settings.CHECK_MAX_ERROR_RATE
        self.check_status = self.Check.PASSED if passed else self.Check.DIFFERS
        self.transcript, self.error_rate = comparison.heard, comparison.error_rate
        self.cer, self.wer, self.check_diff = comparison.cer, comparison.wer, comparison.diff
        self.checked_at, self.check_error = timezone.now(), ""

    def record_check(self, comparison):
        """Save what was heard, and end the worker's lease in the same statement."""
        self.take_check_from(comparison)
        self.lease_expires_at = None
        self._saved(*self.CHECK_RESULT, "lease_expires_at")

    def check_failed(self, message):
        self.check_status, self.check_error, self.lease_expires_at = self.Check.FAILED, message, None
        self._saved("check_status", "check_error", "lease_expires_at")

    def accept(self):
        """The owner keeps this speech although it differs: it counts as checked."""
        self.check_status = self.Check.ACCEPTED
        self._saved("check_status")


def attempt_upload_to(attempt, filename):
    return f"utterances/{attempt.utterance.uuid}-{attempt.number}.wav"


class UtteranceAttempt(HeardBack):
    """One rendition of one-off speech that was heard back: the first, and each made again because the
    best so far differed (checks.tasks.redo_utterance). The utterance keeps the best one's audio and check.

    Every attempt is paid for (its speech, its check), so each is recorded: what was heard, how far it
    was from the text, and the calls it took. Only the kept attempt's audio is kept, as the utterance's
    own: an utterance is one file to every route that reads it (the pages, the API, downloads, the
    account's archive, deletion), and a losing attempt is the worse rendition of a text its owner asked
    for once. Keeping its file would make each of those learn about files nobody asked to hear; the
    studio keeps every take because its owner chooses among them, and one-off speech has no such choice.
    An attempt's own `audio` holds its file only from when it is spoken until it is settled.
    """

    utterance = models.ForeignKey(
        "clones.Utterance", on_delete=models.CASCADE, related_name="speech_attempts", verbose_name=_("utterance")
    )
    number = models.PositiveSmallIntegerField(_("attempt"))  # 1: the speech as first made
    audio = models.FileField(_("audio"), upload_to=attempt_upload_to, blank=True)
    duration = models.FloatField(_("duration (s)"), null=True, blank=True)
    sent_text = models.TextField(_("text sent"), blank=True)
    provider_calls = models.PositiveSmallIntegerField(_("provider calls"), default=0)
    # The utterance's audio is this attempt's.
    kept = models.BooleanField(_("kept"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["utterance", "number"]
        verbose_name = _("attempt at speech")
        verbose_name_plural = _("attempts at speech")
        constraints = [models.UniqueConstraint(fields=["utterance", "number"], name="one_attempt_per_number")]

    def __str__(self):
        return f"{self.utterance_id} #{self.number}"


class RuleQuerySet(models.QuerySet):
    def owned_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)

    def for_voice(self, owner, clone=None):
        """The rules that apply when `owner` speaks with `clone` (None: a system voice): all-voice rules
        and the clone's own."""
        voice = Q(clone__isnull=True) | Q(clone=clone) if clone is not None else Q(clone__isnull=True)
        return self.filter(owner=owner).filter(voice)


class PronunciationRule(models.Model):
    class Language(models.TextChoices):
        ANY = "", _("Any language")
        CHINESE = "zh", _("Chinese")
        ENGLISH = "en", _("English")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pronunciation_rules", verbose_name=_("owner")
    )
    clone = models.ForeignKey(
        "clones.Clone", on_delete=models.CASCADE, null=True, blank=True, related_name="pronunciation_rules",
        verbose_name=_("voice"), help_text=_("Empty: every voice."),
    )  # fmt: skip
    phrase = models.CharField(_("word or phrase"), max_length=100)
    replacement = models.CharField(_("say it as"), max_length=200)
    whole_word = models.BooleanField(_("whole words only"), default=False)
    language = models.CharField(_("language"), max_length=2, choices=Language, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["phrase", "pk"]
        verbose_name = _("pronunciation rule")
        verbose_name_plural = _("pronunciation rules")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "clone", "phrase", "language"], name="one_rule_per_phrase_voice_language",
                nulls_distinct=False,
            )
        ]  # fmt: skip

    def __str__(self):
        return f"{self.phrase} → {self.replacement}"

    def pattern(self):
        phrase = re.escape(self.phrase)
        if self.whole_word:
            # Word characters on either side mean the phrase is part of a longer word.
            return rf"(?<!\w){phrase}(?!\w)"
        return phrase


def apply_rules(text, rules):
    """`text` with every applicable rule's phrase replaced by its spelling, in one pass."""
    language = language_of(text)
    rules = [rule for rule in rules if rule.phrase and rule.language in ("", language)]
    if not rules:
        return text
    rules.sort(key=lambda rule: (-len(rule.phrase), rule.clone_id is None))  # a voice's own rule first
    by_group = {f"r{index}": rule for index, rule in enumerate(rules)}
    pattern = re.compile("|".join(f"(?P<{name}>{rule.pattern()})" for name, rule in by_group.items()), re.IGNORECASE)
    return pattern.sub(lambda match: by_group[match.lastgroup].replacement, text)


def spoken_form(text, owner, clone=None):
    """What is sent to be spoken for `text`, by `owner` with `clone` (None: a system voice)."""
    return apply_rules(text, list(PronunciationRule.objects.for_voice(owner, clone)))
