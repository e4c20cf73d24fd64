"""The pronunciation dictionary: an owner's rules that rewrite text before it is sent to be spoken.

A rule turns a word or phrase into a sound-alike spelling: a homophone that forces a polyphone's reading
(重庆 -> 虫庆), or how to say an acronym (SQL -> sequel). A rule may be limited to one of the owner's
voices, to whole words, or to text in one language. The rules of one text are applied in one pass, the
longest phrase first, so that a rule never rewrites another's result.
"""

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clones.models import Clone

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def language_of(text):
    """ "zh" for text with any Chinese character, else "en": what a rule's language is matched against."""
    return "zh" if HAN.search(text) else "en"


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
        Clone, on_delete=models.CASCADE, null=True, blank=True, related_name="pronunciation_rules",
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
