import re

from django import forms
from django.core.files.base import ContentFile
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from clones.audio import AudioError
from clones.forms import CloneForm
from clones.intake import ACCEPT, upload_too_large_message
from clones.models import Clone
from lab import cleanup
from lab.assembly import MAX_FILES, AssemblyError, assemble, take_in
from lab.models import SamplePart
from lab.takes import add_take


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class RecordingsField(forms.FileField):
    """Up to MAX_FILES uploaded files, as a list."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise forms.ValidationError(_("Choose at least one recording."))
        if len(files) > MAX_FILES:
            raise forms.ValidationError(_("Use at most %(count)d recordings for one sample.") % {"count": MAX_FILES})
        return files


class SkipField(forms.CharField):
    """The indexes of files the owner left out, comma-separated."""

    def clean(self, value):
        value = super().clean(value)
        try:
            return {int(v) for v in value.split(",") if v.strip()}
        except ValueError as exc:
            raise forms.ValidationError(_("Choose the recordings to leave out from the list.")) from exc


WINDOW = re.compile(r"(?P<index>\d{1,2}):(?P<start>-?\d{1,3}(?:\.\d+)?)-(?P<end>-?\d{1,3}(?:\.\d+)?)")


class WindowsField(forms.CharField):
    """The kept windows the owner dragged, as "index:start-end" pairs (seconds), comma-separated.

    Only files whose window was moved are listed; their range is checked against the recordings once
    they are read (lab.assembly.check_windows).
    """

    def clean(self, value):
        value = super().clean(value)
        windows = {}
        for item in filter(None, (v.strip() for v in value.split(","))):
            match = WINDOW.fullmatch(item)
            if match is None:
                raise forms.ValidationError(_("The kept windows could not be read: move them again."))
            windows[int(match["index"])] = (float(match["start"]), float(match["end"]))
        return windows


def recordings_field():
    return RecordingsField(
        label=_("Recordings"),
        help_text=_(
            "Up to %(count)d recordings of the same person: we keep the clearest speech from all of them, at most "
            "30 seconds, and show you which parts before anything is paid."
        )
        % {"count": MAX_FILES},
        widget=MultipleFileInput(attrs={"accept": ACCEPT, "multiple": True}),
    )


def denoise_field():
    return forms.BooleanField(
        label=_("Reduce background noise"),
        required=False,
        help_text=_("Offered when the quality report finds background noise; listen before and after."),
    )


def assemble_with_choices(form, files):
    """Join the files as the form asks (files left out, noise reduced), on form.assembly; errors on the form."""
    try:
        parts = take_in([(f.name, f) for f in files])
        assembly = assemble(
            parts, skip=form.cleaned_data.get("skip") or set(), windows=form.cleaned_data.get("windows") or {}
        )
        if form.cleaned_data.get("denoise") and cleanup.is_available():
            assembly.before_cleanup, assembly.prepared = assembly.prepared, cleanup.reduce_noise(assembly.prepared)
    except AssemblyError as exc:
        form.add_error("recordings", str(exc))
        return None
    except AudioError as exc:
        form.add_error("recordings", str(exc))
        return None
    form.assembly = assembly
    return assembly


class AssembleForm(forms.Form):
    """The recordings to join, for a look before anything is stored or paid."""

    recordings = recordings_field()
    skip = SkipField(required=False, widget=forms.HiddenInput)
    windows = WindowsField(required=False, widget=forms.HiddenInput)
    denoise = denoise_field()

    def __init__(self, *args, upload_too_large=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.upload_too_large = upload_too_large

    def full_clean(self):
        if self.is_bound and self.upload_too_large:
            self._errors, self.cleaned_data = ErrorDict(), {}
            self.add_error("recordings", upload_too_large_message())
            return
        super().full_clean()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("recordings") and not self.has_error("windows"):
            assemble_with_choices(self, cleaned["recordings"])
        return cleaned


class MultiCloneForm(CloneForm):
    """The clone form with several recordings in place of one sample."""

    sample = None  # replaced by `recordings`
    recordings = recordings_field()
    skip = SkipField(required=False, widget=forms.HiddenInput)
    windows = WindowsField(required=False, widget=forms.HiddenInput)
    denoise = denoise_field()

    class Meta(CloneForm.Meta):
        fields = ["name", "transcript", "preview_text", "language", "visibility"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Recordings first, where the single-file form has its sample.
        self.order_fields(["name", "recordings", "skip", "windows", "denoise"])

    def full_clean(self):
        if self.is_bound and self.upload_too_large:
            self._errors, self.cleaned_data = ErrorDict(), {}
            self.add_error("recordings", upload_too_large_message())
            return
        super(CloneForm, self).full_clean()

    def clean(self):
        cleaned = super().clean()
        files = cleaned.get("recordings")
        if files and not self.has_error("windows"):
            if assemble_with_choices(self, files) is None:
                return cleaned
            self.prepared = self.assembly.prepared
            self.original = ContentFile(self.prepared.wav, name="original.wav")
            self.instance.sample = ContentFile(self.prepared.wav, name="sample.wav")
        return cleaned

    def save(self):
        clone = super().save()
        save_parts(clone, self.assembly)
        return clone


def save_parts(clone, assembly):
    for position, part in enumerate(assembly.parts):
        row = SamplePart(
            clone=clone,
            position=position,
            name=part.name[:200],
            report=part.prepared.report,
            stretches=part.stretches,
        )
        row.audio.save("part.wav", ContentFile(part.prepared.wav), save=False)
        row.save()


class TakeForm:
    """A sibling take as clones.submissions.submit_clone expects a form: owner, instance, save()."""

    def __init__(self, source, owner, prepared, assembly=None):
        self.owner, self.source, self.prepared, self.assembly = owner, source, prepared, assembly
        self.instance = Clone(
            owner=owner,
            name=source.name,
            language=source.language,
            visibility=source.visibility,
            preview_text=source.preview_text,
            consent_by=owner,
            consent_at=source.consent_at,
            provider_model=source.provider_model,
            sample_format="wav",
            sample_duration=prepared.duration,
            quality=prepared.report,
            sample_peaks=prepared.peaks,
        )

    def save(self):
        clone = self.instance
        clone.sample.save("sample.wav", ContentFile(self.prepared.wav), save=False)
        clone.original.save("original", ContentFile(self.prepared.wav), save=False)
        clone.save()
        clone.tags.set(self.source.tags.all())
        if self.assembly is not None:
            save_parts(clone, self.assembly)
        add_take(self.source, clone)
        return clone
