"""What the studio accepts, for the web pages and the JSON API alike."""

from django import forms
from django.db import transaction
from django.db.models import F, Q
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from clones import system_voices
from clones.models import SYSTEM_VOICES, Clone
from studio import script
from studio.models import Export, Line, Project

MAX_SCRIPT_BYTES = 2 * 1024 * 1024
MAX_SCRIPT_CHARS = 500_000
MAX_LINES = 2000
SPEAKER_FIELD = "speaker:"  # a form field per speaker name: "speaker:Alice" = "<voice key>"
NOT_A_SPEAKER = "-"  # the name before the colon is part of the text after all ("Note: ...")


def usable_clones(user):
    """Clones the user may make speak: their own ready ones, and public ones whose owners allow it."""
    ready = Clone.objects.filter(status=Clone.Status.READY, deletion_requested_at=None, gone_at=None).exclude(
        voice_id=""
    )
    shared = Q(visibility=Clone.Visibility.PUBLIC, allow_public_speech=True)
    return ready.filter(Q(owner=user) | shared).select_related("owner").order_by("name")


def voice_choices(user, *, default_label=None):
    """Grouped choices of voice keys: system voices, the user's clones, clones shared with everyone."""
    own, shared = [], []
    for clone in usable_clones(user):
        if clone.owner_id == user.pk:
            own.append((str(clone.uuid), clone.name))
        else:
            shared.append((str(clone.uuid), f"{clone.name} ({clone.owner.username})"))
    choices = [(_("System voices"), system_voices.choices())]
    if own:
        choices.append((_("My clones"), own))
    if shared:
        choices.append((_("Shared voices"), shared))
    if default_label:
        choices.insert(0, ("", default_label))
    return choices


class VoiceField(forms.ChoiceField):
    def __init__(self, *, user, default_label=None, choices=None, **kwargs):
        choices = choices if choices is not None else voice_choices(user, default_label=default_label)
        super().__init__(choices=choices, **kwargs)
        self.error_messages["invalid_choice"] = _("You may not use this voice: choose one from the list.")


def _check_speed(value):
    if value is not None and not 0.5 <= value <= 2:
        raise forms.ValidationError(_("Speed must be between 0.5 and 2."))
    return value


def _check_volume(value):
    if not 0 < value <= 10:
        raise forms.ValidationError(_("Volume must be more than 0 and at most 10."))
    return value


class ProjectForm(forms.ModelForm):
    """A new project from a pasted or uploaded script; every speaker it names must be given a voice."""

    voice = forms.ChoiceField(label=_("Voice"))
    script = forms.CharField(
        label=_("Script"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "Plain text, Markdown or subtitles. Lines are made at paragraph and sentence ends. Start a line with "
            "a name and a colon (“Alice: …”, “旁白：…”) to give it a speaker, and write [pause 1.5s] for silence."
        ),
    )
    file = forms.FileField(
        label=_("Or upload a file"),
        required=False,
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.md,.markdown,.srt,.vtt,text/plain,text/vtt"}),
    )
    format = forms.ChoiceField(
        label=_("Format"), choices=[("auto", _("Recognise it")), *Project.Format.choices], initial="auto"
    )

    class Meta:
        model = Project
        fields = ["title", "speed", "volume"]
        labels = {"title": _("Title"), "speed": _("Speed"), "volume": _("Volume")}
        widgets = {
            "speed": forms.NumberInput(attrs={"min": 0.5, "max": 2, "step": 0.1}),
            "volume": forms.NumberInput(attrs={"min": 0.1, "max": 10, "step": 0.1}),
        }

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        # Their newest voice preselected, as on the speak page: that is what people come to use; else a system voice.
        newest = usable_clones(owner).filter(owner=owner).order_by("-created_at").first()
        initial = str(newest.uuid) if newest else SYSTEM_VOICES[0][0]
        self.fields["voice"] = VoiceField(user=owner, label=_("Voice"), initial=initial)
        # (group label or None, [(voice key, label)]) for the speakers' menus.
        self.speaker_groups = [
            (None, [("", _("The project's voice"))]),
            *voice_choices(owner),
            (None, [(NOT_A_SPEAKER, _("Not a speaker: keep the name in the text"))]),
        ]
        self.order_fields(["title", "voice", "script", "file", "format", "speed", "volume"])
        self.unknown_speakers = []
        self.speakers = {}
        self.parsed = None

    def clean_speed(self):
        return _check_speed(self.cleaned_data["speed"])

    def clean_volume(self):
        return _check_volume(self.cleaned_data["volume"])

    def _script_text(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            return self.cleaned_data.get("script", ""), ""
        if upload.size > MAX_SCRIPT_BYTES:
            raise forms.ValidationError(
                _("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(MAX_SCRIPT_BYTES)}
            )
        data = upload.read()
        for encoding in ("utf-8-sig", "utf-16", "gb18030"):
            if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
                continue
            try:
                return data.decode(encoding), upload.name
            except UnicodeDecodeError:
                continue
        raise forms.ValidationError(_("The file is not text we can read: save it as UTF-8 and upload it again."))

    def clean(self):
        cleaned = super().clean()
        try:
            text, filename = self._script_text()
        except forms.ValidationError as exc:
            self.add_error("file", exc)
            return cleaned
        if len(text) > MAX_SCRIPT_CHARS:
            self.add_error(
                "script", _("Keep the script to %(limit)d characters or fewer.") % {"limit": MAX_SCRIPT_CHARS}
            )
            return cleaned
        try:
            self.parsed = script.parse(text, cleaned.get("format", "auto"), filename)
        except script.ScriptError as exc:
            for problem in exc.problems:
                self.add_error("script", problem)
            return cleaned
        if len(self.parsed.lines) > MAX_LINES:
            self.add_error("script", _("A project holds at most %(limit)d lines.") % {"limit": MAX_LINES})
        self._map_speakers()
        return cleaned

    def _map_speakers(self):
        valid = {key for _group, options in voice_choices(self.owner) for key, _label in options}
        valid |= {"", NOT_A_SPEAKER}
        for name in self.parsed.speakers:
            key = self.data.get(SPEAKER_FIELD + name)
            if key is None:
                self.unknown_speakers.append(name)
            elif key not in valid:
                self.add_error(None, _("You may not use the voice chosen for “%(name)s”.") % {"name": name})
            else:
                self.speakers[name] = key
        if self.unknown_speakers:
            self.add_error(
                None,
                _("Choose a voice for each speaker the script names: %(names)s.")
                % {"names": ", ".join(self.unknown_speakers)},
            )

    def speaker_fields(self):
        """(field name, speaker name, chosen key) of every speaker the script names, for the page."""
        names = self.parsed.speakers if self.parsed else []
        return [(SPEAKER_FIELD + name, name, self.data.get(SPEAKER_FIELD + name, "")) for name in names]

    @transaction.atomic
    def save(self):
        project = super().save(commit=False)
        project.owner = self.owner
        project.set_voice(self.cleaned_data["voice"])
        project.source_format = self.parsed.format
        project.speakers = self.speakers
        project.save()
        lines = []
        for position, parsed in enumerate(self.parsed.lines):
            line = Line(project=project, position=position, text=parsed.text, speaker=parsed.speaker)
            line.cue_start, line.cue_end = parsed.cue_start, parsed.cue_end
            key = self.speakers.get(parsed.speaker, "")
            if key == NOT_A_SPEAKER:
                line.text, line.speaker = f"{parsed.speaker}: {parsed.text}", ""
            elif key:
                line.set_voice(key)
            lines.append(line)
        Line.objects.bulk_create(lines)
        return project


class ProjectSettingsForm(forms.ModelForm):
    voice = forms.ChoiceField(label=_("Voice"))

    class Meta:
        model = Project
        fields = ["title", "speed", "volume", "loudness_target", "check_speech"]
        labels = {
            "check_speech": _("Check every take"),
            "title": _("Title"),
            "speed": _("Speed"),
            "volume": _("Volume"),
            "loudness_target": _("Loudness of the export (LUFS)"),
        }
        help_texts = {
            "loudness_target": _("Every line is matched to this level; -16 suits most listening."),
            "check_speech": _(
                "Each take is heard back by speech recognition and compared with its text; a take that differs "
                "is made again. Each check and each new take counts toward your daily limits."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["voice"] = VoiceField(user=self.instance.owner, label=_("Voice"), initial=self.instance.voice_key)

    def clean_speed(self):
        return _check_speed(self.cleaned_data["speed"])

    def clean_volume(self):
        return _check_volume(self.cleaned_data["volume"])

    def clean_loudness_target(self):
        target = self.cleaned_data["loudness_target"]
        if not -36 <= target <= -6:
            raise forms.ValidationError(_("The loudness target must be between -36 and -6 LUFS."))
        return target

    @transaction.atomic
    def save(self):
        project = super().save(commit=False)
        before = (project.voice_key, Project.objects.get(pk=project.pk).speed)
        project.set_voice(self.cleaned_data["voice"])
        project.save()
        # Lines speaking in the project's voice, or at its speed, now say things differently.
        uses_voice = Q(clone__isnull=True, system_voice="")
        if before[0] != project.voice_key:
            project.lines.filter(uses_voice).update(revision=F("revision") + 1)
        if before[1] != project.speed:
            project.lines.filter(speed__isnull=True).update(revision=F("revision") + 1)
        return project


def line_voice_choices(user):
    return voice_choices(user, default_label=_("The project's voice"))


class LineForm(forms.ModelForm):
    voice = forms.ChoiceField(label=_("Voice"), required=False)

    class Meta:
        model = Line
        fields = ["text", "speed", "pause_after"]
        labels = {"text": _("Text"), "speed": _("Speed"), "pause_after": _("Pause after (s)")}
        widgets = {
            "text": forms.Textarea(attrs={"rows": 3}),
            "speed": forms.NumberInput(attrs={"min": 0.5, "max": 2, "step": 0.1}),
            "pause_after": forms.NumberInput(attrs={"min": 0, "max": 10, "step": 0.1}),
        }

    def __init__(self, *args, choices=None, **kwargs):
        """`choices`: the owner's voice choices, when a page shows a form for each of many lines."""
        super().__init__(*args, **kwargs)
        owner = self.instance.project.owner
        self.fields["voice"] = VoiceField(
            user=owner, choices=choices or line_voice_choices(owner), label=_("Voice"), required=False,
            initial=self.instance.voice_key,
        )  # fmt: skip

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        problem = script.check_line_text(text)
        if problem:
            raise forms.ValidationError(problem)
        return text

    def clean_speed(self):
        return _check_speed(self.cleaned_data["speed"])

    def clean_pause_after(self):
        pause = self.cleaned_data["pause_after"]
        if not 0 <= pause <= script.MAX_PAUSE_SECONDS:
            raise forms.ValidationError(
                _("A pause must be between 0 and %(limit)g seconds.") % {"limit": script.MAX_PAUSE_SECONDS}
            )
        return pause

    def save(self):
        line = Line.objects.select_for_update().get(pk=self.instance.pk)
        data = self.cleaned_data
        line.edit(text=data["text"], voice_key=data["voice"], speed=data["speed"], pause_after=data["pause_after"])
        return line


class ExportForm(forms.ModelForm):
    class Meta:
        model = Export
        fields = ["format", "keep_cue_times"]
        labels = {"format": _("Format"), "keep_cue_times": _("Keep each line at its subtitle cue's start time")}

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        if not project.has_cues:
            del self.fields["keep_cue_times"]

    def clean(self):
        cleaned = super().clean()
        missing = [line.number for line in self.project.ordered_lines() if not line.chosen_take_id]
        if missing:
            raise forms.ValidationError(
                _("These lines have no chosen take yet: %(lines)s. Generate them first.")
                % {"lines": ", ".join(map(str, missing[:30])) + ("…" if len(missing) > 30 else "")}
            )
        return cleaned

    def save(self):
        """The export's row; studio.tasks.enqueue_export sends it to a worker."""
        export = super().save(commit=False)
        export.project = self.project
        export.save()
        return export
