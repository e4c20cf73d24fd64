"""Validation of the pronunciation dictionary: one rule, and a CSV file of rules."""

import csv
import io

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from checks.models import PronunciationRule
from clones.models import Clone

CSV_COLUMNS = ["phrase", "replacement", "whole_word", "language", "voice"]
CSV_MAX_BYTES = 256 * 1024
CSV_MAX_RULES = 1000
TRUE = {"1", "true", "yes", "y"}
FALSE = {"", "0", "false", "no", "n"}


def own_clones(owner):
    return Clone.objects.owned_by(owner).filter(status=Clone.Status.READY, deletion_requested_at=None, gone_at=None)


class RuleForm(forms.ModelForm):
    voice = forms.ChoiceField(label=_lazy("Voice"), required=False, help_text=_lazy("Empty: every voice."))

    class Meta:
        model = PronunciationRule
        fields = ["phrase", "replacement", "whole_word", "language"]
        labels = {
            "phrase": _lazy("Word or phrase"),
            "replacement": _lazy("Say it as"),
            "whole_word": _lazy("Whole words only"),
            "language": _lazy("Only in text in"),
        }
        help_texts = {
            "replacement": _lazy("A sound-alike spelling: a homophone for a polyphone (重庆 → 虫庆), or how to "
                                 "say an acronym (SQL → sequel)."),
        }  # fmt: skip

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = self.instance.owner = owner
        self.clones = {str(c.uuid): c for c in own_clones(owner)}
        self.fields["voice"].choices = [("", _("Every voice"))] + [(k, c.name) for k, c in self.clones.items()]

    def clean_phrase(self):
        phrase = self.cleaned_data["phrase"].strip()
        if not phrase:
            raise forms.ValidationError(_("Enter the word or phrase to rewrite."))
        return phrase

    def clean_replacement(self):
        replacement = self.cleaned_data["replacement"].strip()
        if not replacement:
            raise forms.ValidationError(_("Enter how the phrase should be said."))
        return replacement

    def clean(self):
        data = super().clean()
        self.instance.clone = self.clones.get(data.get("voice") or "")
        phrase = data.get("phrase")
        if phrase and data.get("replacement") == phrase:
            self.add_error("replacement", _("The spelling is the same as the phrase: the rule would change nothing."))
        if phrase is not None:
            same = PronunciationRule.objects.filter(
                owner=self.owner, clone=self.instance.clone, phrase=phrase, language=data.get("language", "")
            ).exclude(pk=self.instance.pk)
            if same.exists():
                self.add_error("phrase", _("You already have a rule for this phrase, voice and language."))
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_lazy("CSV file"),
        help_text=_lazy("Columns: phrase, replacement, whole_word, language, voice (empty: every voice)."),
    )

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > CSV_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than %(kb)d KB.") % {"kb": CSV_MAX_BYTES // 1024})
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
        self.rules = parse_csv(text, self.owner)
        return upload


def parse_csv(text, owner):
    """Rules (unsaved) from CSV text; every problem is raised at once, by line number."""
    clones = {c.name: c for c in own_clones(owner)}
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"phrase", "replacement"} <= {f.strip() for f in reader.fieldnames}:
        raise forms.ValidationError(_("The first row must name the columns, at least phrase and replacement."))
    rules, problems, seen = [], [], set()
    for row in reader:
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
        number = reader.line_num
        phrase, replacement = row.get("phrase", ""), row.get("replacement", "")
        whole, language, voice = row.get("whole_word", "").lower(), row.get("language", ""), row.get("voice", "")
        if not phrase or not replacement:
            problems.append(_("Line %(n)d: a rule needs a phrase and a replacement.") % {"n": number})
        elif len(phrase) > 100 or len(replacement) > 200:
            problems.append(_("Line %(n)d: the phrase or the replacement is too long.") % {"n": number})
        elif whole not in TRUE | FALSE:
            problems.append(_("Line %(n)d: whole_word must be yes or no.") % {"n": number})
        elif language not in PronunciationRule.Language.values:
            problems.append(_("Line %(n)d: language must be zh, en or empty.") % {"n": number})
        elif voice and voice not in clones:
            problems.append(_("Line %(n)d: you have no voice named “%(voice)s”.") % {"n": number, "voice": voice})
        elif (phrase, voice, language) in seen:
            problems.append(_("Line %(n)d: the same phrase, voice and language again.") % {"n": number})
        else:
            seen.add((phrase, voice, language))
            rule = PronunciationRule(owner=owner, clone=clones.get(voice), phrase=phrase, replacement=replacement)
            rule.whole_word, rule.language = whole in TRUE, language
            rules.append(rule)
        if len(rules) > CSV_MAX_RULES:
            raise forms.ValidationError(_("At most %(n)d rules at a time.") % {"n": CSV_MAX_RULES})
        if len(problems) >= 20:
            break
    if problems:
        raise forms.ValidationError(problems)
    if not rules:
        raise forms.ValidationError(_("The file has no rules."))
    return rules


def rules_csv(rules):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for rule in rules:
        voice = rule.clone.name if rule.clone_id else ""
        writer.writerow([rule.phrase, rule.replacement, "yes" if rule.whole_word else "no", rule.language, voice])
    return out.getvalue()
