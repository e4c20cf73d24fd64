from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from clones.audio import PROVIDER_FORMATS, AudioError, inspect_audio
from clones.models import Clone


class CloneForm(forms.ModelForm):
    sample = forms.FileField(
        label=_("Voice sample"),
        help_text=_("A WAV or MP3 file with 3 to 30 seconds of one person speaking clearly."),
        widget=forms.ClearableFileInput(attrs={"accept": "audio/wav,audio/x-wav,audio/mpeg,.wav,.mp3"}),
    )

    class Meta:
        model = Clone
        fields = ["name", "sample", "transcript", "preview_text"]
        labels = {"name": _("Name"), "transcript": _("Transcript (optional)"), "preview_text": _("Preview text")}
        help_texts = {
            "name": _("Only for you: how this voice is listed."),
            "transcript": _(
                "Exactly what is said in the sample. Leave it empty if unsure: a wrong transcript is worse than none."
            ),
            "preview_text": _("What the cloned voice will say in its preview."),
        }
        widgets = {
            "transcript": forms.Textarea(attrs={"rows": 2}),
            "preview_text": forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
        }

    def clean_preview_text(self):
        text = self.cleaned_data["preview_text"].strip()
        if not text:
            raise forms.ValidationError(_("Please enter a text for the preview."))
        if len(text) > 500:
            raise forms.ValidationError(_("Keep the preview text to 500 characters or fewer."))
        return text

    def clean_sample(self):
        sample = self.cleaned_data["sample"]
        if sample.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        if sample.size > settings.SAMPLE_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit is %(limit)s.")
                % {"size": filesizeformat(sample.size), "limit": filesizeformat(settings.SAMPLE_MAX_BYTES)}
            )
        try:
            info = inspect_audio(sample)
        except AudioError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if info.format not in PROVIDER_FORMATS:
            raise forms.ValidationError(_("Please upload a WAV or MP3 file."))
        if info.duration < settings.SAMPLE_MIN_SECONDS:
            raise forms.ValidationError(
                _("The sample is %(seconds).1f s long; it needs at least %(minimum)d s of speech.")
                % {"seconds": info.duration, "minimum": settings.SAMPLE_MIN_SECONDS}
            )
        if info.duration > settings.SAMPLE_MAX_SECONDS:
            raise forms.ValidationError(
                _("The sample is %(seconds).1f s long; please keep it to %(maximum)d s or less.")
                % {"seconds": info.duration, "maximum": settings.SAMPLE_MAX_SECONDS}
            )
        self.sample_info = info
        return sample

    def save(self, commit=True):
        clone = super().save(commit=False)
        clone.sample_format = self.sample_info.format
        clone.sample_duration = round(self.sample_info.duration, 2)
        clone.provider_model = settings.BIGMODEL_CLONE_MODEL
        if commit:
            clone.save()
        return clone
