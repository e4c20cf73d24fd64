from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Exists, F, OuterRef, Subquery
from django.forms.utils import ErrorDict
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Preferences
from clones import system_voices
from clones.intake import ACCEPT, AudioError, prepare_sample, upload_too_large_message
from clones.models import Clone, Tag, Utterance

MAX_TAGS = 5
MAX_TAG_CHARS = 40
# A sample is at most 30 s of speech: a transcript of it is a few hundred characters in any language.
MAX_TRANSCRIPT_CHARS = 1000
MAX_PREVIEW_TEXT_CHARS = 500


class TagsField(forms.CharField):
    """Comma-separated tags, as a list of clean, distinct names."""

    def clean(self, value):
        value = super().clean(value)
        names = []
        for raw in value.replace("，", ",").split(","):
            name = " ".join(raw.split()).lower()
            if name and name not in names:
                names.append(name)
        if len(names) > MAX_TAGS:
            raise forms.ValidationError(_("Use at most %(count)d tags.") % {"count": MAX_TAGS})
        if any(len(name) > MAX_TAG_CHARS for name in names):
            raise forms.ValidationError(_("Keep each tag to %(limit)d characters or fewer.") % {"limit": MAX_TAG_CHARS})
        return names


def _interface_language():
    """The clone language that matches the page's: someone using the Chinese site likely speaks Chinese."""
    return Clone.Language.CHINESE if get_language().startswith("zh") else Clone.Language.ENGLISH


class CloneForm(forms.ModelForm):
    sample = forms.FileField(
        label=_("Voice sample"),
        help_text=_(
            "3 to 30 seconds of one person speaking clearly: WAV, MP3, M4A/AAC, OGG, Opus/WebM, FLAC, or a "
            "video's sound track. Longer recordings are trimmed to their best 30 seconds."
        ),
        # Empty files reach clean_sample, so every refusal comes from prepare_sample with its own words.
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    tags = TagsField(
        label=_("Tags (optional)"),
        required=False,
        # Room for every tag at its longest with separators; anything longer is refused before it is split.
        max_length=MAX_TAGS * (MAX_TAG_CHARS + 2),
        error_messages={
            "max_length": _("Keep the tags to %(limit_value)d characters or fewer (they have %(show_value)d).")
        },
        help_text=_("Comma-separated, for example: narrator, calm"),
    )
    consent = forms.BooleanField(
        label=_("I have the right to clone this voice: it is my own, or its owner has agreed."),
        error_messages={"required": _("Please confirm that you have the right to clone this voice.")},
    )

    class Meta:
        model = Clone
        fields = ["name", "sample", "transcript", "preview_text", "language", "visibility"]
        labels = {
            "name": _("Name"),
            "transcript": _("Transcript (optional)"),
            "preview_text": _("Preview text"),
            "language": _("Language"),
            "visibility": _("Who can see it"),
        }
        help_texts = {
            "name": _("How this voice is listed."),
            "transcript": _(
                "Exactly what is said in the sample. Leave it empty if unsure: a wrong transcript is worse than none."
            ),
            "preview_text": _("What the cloned voice will say in its preview."),
        }
        widgets = {
            "transcript": forms.Textarea(attrs={"rows": 2, "maxlength": MAX_TRANSCRIPT_CHARS}),
            "preview_text": forms.Textarea(attrs={"rows": 2, "maxlength": MAX_PREVIEW_TEXT_CHARS}),
        }

    def __init__(self, *args, owner, upload_too_large=False, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("language", _interface_language())
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.upload_too_large = upload_too_large
        # The limit is said up front, and the page's script checks it before sending anything. (Forms
        # built on this one may take several samples in another field, or none: lab.forms.)
        if "sample" in self.fields:
            limit = filesizeformat(settings.SAMPLE_MAX_BYTES)
            sample = self.fields["sample"]
            sample.help_text = format_lazy("{} {}", sample.help_text, _("At most %(limit)s.") % {"limit": limit})
            sample.widget.attrs["data-max-bytes"] = settings.SAMPLE_MAX_BYTES
            sample.widget.attrs["data-too-large"] = upload_too_large_message()

    def full_clean(self):
        if self.is_bound and self.upload_too_large:
            # The upload handler stopped reading the request: the file, and maybe the fields sent with
            # it, never arrived. Say why, and only that.
            self._errors, self.cleaned_data = ErrorDict(), {}
            self.add_error("sample", upload_too_large_message())
            return
        super().full_clean()

    def clean_transcript(self):
        text = self.cleaned_data["transcript"].strip()
        if len(text) > MAX_TRANSCRIPT_CHARS:
            raise forms.ValidationError(
                _("Keep the transcript to %(limit)d characters or fewer (it has %(count)d): a sample is 30 s at most.")
                % {"limit": MAX_TRANSCRIPT_CHARS, "count": len(text)}
            )
        return text

    def clean_preview_text(self):
        text = self.cleaned_data["preview_text"].strip()
        if not text:
            raise forms.ValidationError(_("Please enter a text for the preview."))
        if len(text) > MAX_PREVIEW_TEXT_CHARS:
            raise forms.ValidationError(
                _("Keep the preview text to %(limit)d characters or fewer.") % {"limit": MAX_PREVIEW_TEXT_CHARS}
            )
        return text

    def clean_sample(self):
        upload = self.cleaned_data["sample"]
        try:
            self.prepared = prepare_sample(upload)
        except AudioError as exc:
            raise forms.ValidationError(str(exc)) from exc
        self.original = upload
        # The model's `sample` is what we upload to the provider: the normalized WAV.
        return ContentFile(self.prepared.wav, name="sample.wav")

    def save(self):
        clone = super().save(commit=False)
        clone.owner = self.owner
        clone.consent_by = self.owner
        clone.consent_at = timezone.now()
        clone.sample_format = "wav"
        clone.sample_duration = self.prepared.duration
        clone.quality = self.prepared.report
        clone.sample_peaks = self.prepared.peaks
        clone.original.save("original", self.original, save=False)  # named by original_upload_to
        clone.provider_model = settings.BIGMODEL_CLONE_MODEL
        clone.save()
        if self.cleaned_data["tags"]:  # a new clone has none to replace
            clone.tags.set([Tag.objects.get_or_create(name=name)[0] for name in self.cleaned_data["tags"]])
        return clone


class CloneSettingsForm(forms.ModelForm):
    """What an owner may change after creating a clone."""

    class Meta:
        model = Clone
        fields = ["name", "visibility", "allow_public_speech"]
        labels = {"name": _("Name"), "visibility": _("Who can see it")}


class GalleryFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Search by name"), "type": "search"}),
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Any language")), *Clone.Language.choices]
    )
    tag = forms.CharField(
        label=_("Tag"), required=False, max_length=40, widget=forms.TextInput(attrs={"placeholder": _("Tag")})
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("", _("Newest")), ("liked", _("Most liked")), ("used", _("Most used"))],
    )

    # Counters live in library.VoiceStats; a voice without a row has none, so it sorts last.
    ORDERINGS = {
        "": ["-created_at"],
        "liked": [F("stats__likes").desc(nulls_last=True), "-created_at"],
        "used": [F("stats__uses").desc(nulls_last=True), "-created_at"],
    }

    def filter(self, clones):
        if not self.is_valid():
            return clones
        data = self.cleaned_data
        clones = clones.order_by(*self.ORDERINGS[data["sort"]])
        if data["q"]:
            clones = clones.filter(name__icontains=data["q"])
        if data["language"]:
            clones = clones.filter(language=data["language"])
        if data["tag"]:
            # EXISTS on the tag's id, not a join on its name: with a join PostgreSQL guesses the tag has few
            # clones, fetches every one of them and sorts (0.5 s for a tag on 12,500 of a million); this way
            # it walks the gallery's index newest first and stops after a page (4 ms, bench/README.md).
            tag_id = Tag.objects.filter(name=data["tag"].strip().lower()).values("pk")[:1]
            tagged = Clone.tags.through.objects.filter(clone_id=OuterRef("pk"), tag_id=Subquery(tag_id))
            clones = clones.filter(Exists(tagged))
        return clones


class SpeechForm(forms.ModelForm):
    """What to say, and how. The voice is the clone's, or a system voice picked from `voice`."""

    voice = forms.ChoiceField(label=_("Voice"), required=False)
    field_order = ["voice", "text", "speed", "volume"]

    class Meta:
        model = Utterance
        fields = ["text", "speed", "volume", "check_requested"]
        labels = {
            "text": _("Text"),
            "speed": _("Speed"),
            "volume": _("Volume"),
            "check_requested": _("Hear it back and check it"),
        }
        help_texts = {
            "speed": _("From 0.5 (slow) to 2 (fast); 1 is normal."),
            "volume": _("From 0.1 (quiet) to 10 (loud); 1 is normal."),
            "check_requested": _(
                "Speech recognition compares what was said with your text (charged as seconds of speech checked); "
                "speech that differs is made again (charged as speech) and the closest kept."
            ),
        }
        # Sliders, so the range is visible before anything is typed; the page shows the value beside them.
        widgets = {
            "text": forms.Textarea(attrs={"rows": 4, "maxlength": settings.SPEECH_MAX_TEXT_CHARS}),
            "speed": forms.NumberInput(attrs={"type": "range", "min": 0.5, "max": 2, "step": 0.1}),
            "volume": forms.NumberInput(attrs={"type": "range", "min": 0.1, "max": 10, "step": 0.1}),
        }

    def __init__(self, *args, owner, clone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner, self.clone = owner, clone
        if not self.is_bound and "check_requested" not in kwargs.get("initial", {}):
            # Ticked as the owner's account says (their page's setting); each speech may say otherwise.
            self.initial["check_requested"] = Preferences.of(owner).check_speech
        limit = number_format(settings.SPEECH_MAX_TEXT_CHARS, force_grouping=True)
        self.fields["text"].help_text = _("Up to %(limit)s characters.") % {"limit": limit}
        if clone is None:
            # A voice with several takes (lab.Take) speaks with its main take here; the others from their pages.
            ready = (
                Clone.objects.owned_by(owner)
                .filter(status=Clone.Status.READY, deletion_requested_at=None)
                .exclude(take__is_main=False)
            )
            own = list(ready.filter(gone_at=None))
            self.fields["voice"].required = True
            # Their own voices first, and the newest preselected: that is what people come here to use.
            self.fields["voice"].choices = [
                *([(_("My clones"), [(str(c.uuid), c.name) for c in own])] if own else []),
                (_("System voices"), system_voices.choices()),
            ]
            if own and not self.initial.get("voice"):
                self.initial["voice"] = str(own[0].uuid)
        else:
            del self.fields["voice"]

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Please enter a text to speak."))
        if len(text) > settings.SPEECH_MAX_TEXT_CHARS:
            raise forms.ValidationError(
                _("Keep the text to %(limit)d characters or fewer (it has %(count)d).")
                % {"limit": settings.SPEECH_MAX_TEXT_CHARS, "count": len(text)}
            )
        return text

    def clean_speed(self):
        speed = self.cleaned_data["speed"]
        if not 0.5 <= speed <= 2:
            raise forms.ValidationError(_("Speed must be between 0.5 and 2."))
        return speed

    def clean_volume(self):
        volume = self.cleaned_data["volume"]
        if not 0 < volume <= 10:
            raise forms.ValidationError(_("Volume must be more than 0 and at most 10."))
        return volume

    def save(self, commit=True):
        utterance = super().save(commit=False)
        utterance.owner = self.owner
        voice = self.cleaned_data.get("voice", "")
        if self.clone is not None:
            utterance.clone = self.clone
        elif voice in dict(system_voices.choices()):
            utterance.system_voice = voice
        else:
            utterance.clone = Clone.objects.owned_by(self.owner).get(uuid=voice)
        if commit:
            utterance.save()
        return utterance
