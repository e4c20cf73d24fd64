from django import forms
from django.utils.translation import gettext_lazy as _

from library.models import SHOWCASE_MAX, Showcase


class ShowcaseForm(forms.Form):
    """The owner's pick of up to SHOWCASE_MAX clips from the voice's own speech."""

    clips = forms.ModelMultipleChoiceField(
        label=_("Showcase clips"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Pick up to three things this voice said: they play on its card in the gallery."),
    )

    def __init__(self, *args, clone, **kwargs):
        super().__init__(*args, **kwargs)
        self.clone = clone
        choices = Showcase.choices_for(clone)
        self.fields["clips"].queryset = choices.model.objects.filter(pk__in=[u.pk for u in choices])
        self.fields["clips"].label_from_instance = lambda u: u.text[:80]
        self.initial.setdefault("clips", [s.utterance_id for s in clone.showcase.all()])

    def clean_clips(self):
        clips = self.cleaned_data["clips"]
        if len(clips) > SHOWCASE_MAX:
            raise forms.ValidationError(_("Pick at most %(count)d clips.") % {"count": SHOWCASE_MAX})
        return list(clips.order_by("-created_at"))

    def save(self):
        Showcase.replace(self.clone, self.cleaned_data["clips"])
