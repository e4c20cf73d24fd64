"""The studio's records: a project (a script), its ordered lines, each line's takes, and exports.

State and bookkeeping live here (who may see what, which take is chosen and fresh, the lease on a
take), as clones.models keeps a clone's. The provider conversation of a take is studio/takes.py,
mastering studio/mastering.py, and queuing studio/tasks.py; these models import none of them.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from checks.models import HeardBack
from clones import leases, system_voices
from clones.models import SYSTEM_VOICES, Clone
from studio.script import spoken_text
from studio.signals import export_finished

DEFAULT_LOUDNESS = -16.0  # LUFS: what podcast and streaming platforms ask of spoken word
DEFAULT_PAUSE_AFTER = 0.5


class VoiceChoice(models.Model):
    """A voice: one of the owner's usable clones, or a system voice. Both empty: the project's voice."""

    clone = models.ForeignKey(
        Clone, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("clone")
    )
    system_voice = models.CharField(_("system voice"), max_length=20, choices=SYSTEM_VOICES, blank=True)

    class Meta:
        abstract = True

    @property
    def voice_key(self):
        """How forms name this voice: a system voice's name, a clone's UUID, or "" for none."""
        if self.clone_id:
            return str(self.clone.uuid)
        return self.system_voice

    def set_voice(self, key):
        """Set from a form's voice key (already checked to be usable by the owner): a clone's UUID, else the
        name of a system voice (the provider's list may hold more than ours)."""
        try:
            clone_uuid = uuid.UUID(key) if key else None
        except ValueError:
            clone_uuid = None
        if not key:
            self.clone, self.system_voice = None, ""
        elif clone_uuid is not None:
            self.clone, self.system_voice = Clone.objects.get(uuid=clone_uuid), ""
        else:
            self.clone, self.system_voice = None, key

    @property
    def has_voice(self):
        return bool(self.clone_id or self.system_voice)

    @property
    def own_voice_label(self):
        if self.clone_id:
            return self.clone.name
        return str(dict(system_voices.choices()).get(self.system_voice, self.system_voice))


class ProjectQuerySet(models.QuerySet):
    def owned_by(self, user):
        """The user's own projects: nobody else, staff included, works in someone's studio."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


def project_default_voice():
    return SYSTEM_VOICES[0][0]


class Project(VoiceChoice):
    class Format(models.TextChoices):
        PLAIN = "plain", _("Plain text")
        MARKDOWN = "markdown", _("Markdown")
        SRT = "srt", _("SubRip subtitles (.srt)")
        VTT = "vtt", _("WebVTT subtitles (.vtt)")

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_projects", verbose_name=_("owner")
    )
    title = models.CharField(_("title"), max_length=200)
    speed = models.FloatField(_("speed"), default=1.0)
    volume = models.FloatField(_("volume"), default=1.0)
    loudness_target = models.FloatField(_("loudness target (LUFS)"), default=DEFAULT_LOUDNESS)
    source_format = models.CharField(_("script format"), max_length=10, choices=Format, default=Format.PLAIN)
    # Every take is heard back and compared with its text, and a take that differs is made again (checks/).
    check_speech = models.BooleanField(_("check every take"), default=True)
    # The speaker names the script used and the voice key each was given ("" for the project's voice).
    speakers = models.JSONField(_("speakers"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("studio project")
        verbose_name_plural = _("studio projects")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("studio:project", args=[self.uuid])

    @property
    def voice_label(self):
        return self.own_voice_label or str(dict(SYSTEM_VOICES)[project_default_voice()])

    def provider_voice(self):
        if self.clone_id:
            return self.clone.voice_id
        return self.system_voice or project_default_voice()

    @property
    def has_cues(self):
        return self.source_format in (self.Format.SRT, self.Format.VTT)

    def ordered_lines(self):
        return self.lines.select_related("clone", "chosen_take").order_by("position", "pk")

    def lines_to_generate(self):
        """Unlocked lines without a chosen take that is fresh and ready, nor a take on its way."""
        lines = self.ordered_lines().filter(locked=False)
        pending = Take.objects.filter(line=models.OuterRef("pk"), status__in=Take.PENDING)
        fresh_choice = Q(chosen_take__status=Take.Status.READY, chosen_take__revision=F("revision"))
        return lines.exclude(fresh_choice).exclude(models.Exists(pending))

    def touch(self):
        Project.objects.filter(pk=self.pk).update(updated_at=timezone.now())


class Line(VoiceChoice):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="lines", verbose_name=_("project"))
    position = models.PositiveIntegerField(_("position"))
    text = models.TextField(_("text"))
    speaker = models.CharField(_("speaker"), max_length=60, blank=True)
    speed = models.FloatField(_("speed"), null=True, blank=True)  # empty: the project's
    pause_after = models.FloatField(_("pause after (s)"), default=DEFAULT_PAUSE_AFTER)
    # Where the subtitle cue this line came from starts and ends, in seconds.
    cue_start = models.FloatField(_("cue start"), null=True, blank=True)
    cue_end = models.FloatField(_("cue end"), null=True, blank=True)
    locked = models.BooleanField(_("locked"), default=False)
    # Raised whenever what the line says, or how, changes: takes of an older revision are stale.
    revision = models.PositiveIntegerField(_("revision"), default=1)
    chosen_take = models.ForeignKey(
        "Take", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("chosen take")
    )
    # The owner chose the take by hand: checks no longer change the choice until a new take is asked for.
    chosen_by_owner = models.BooleanField(_("chosen by the owner"), default=False)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("line")
        verbose_name_plural = _("lines")

    def __str__(self):
        return self.text[:60]

    @property
    def number(self):
        return self.position + 1

    @property
    def spoken_text(self):
        return spoken_text(self.text)

    @property
    def effective_speed(self):
        return self.speed if self.speed is not None else self.project.speed

    @property
    def voice_label(self):
        return self.own_voice_label or self.project.voice_label

    def provider_voice(self):
        if self.clone_id:
            return self.clone.voice_id
        return self.system_voice or self.project.provider_voice()

    def voice_clone(self):
        """The clone this line speaks with, if any (its own, else the project's)."""
        if self.clone_id:
            return self.clone
        if not self.system_voice and self.project.clone_id:
            return self.project.clone
        return None

    @property
    def has_fresh_choice(self):
        take = self.chosen_take
        return take is not None and take.status == Take.Status.READY and take.revision == self.revision

    def state(self):
        """(state, label) of the line's progress: its newest take's, or "stale", or "new" for none."""
        takes = list(self.takes.all())  # prefetched by the page
        newest = takes[-1] if takes else None
        if newest is None:
            return "new", gettext("Not generated")
        if newest.status != Take.Status.READY:
            return newest.status, newest.get_status_display()
        if not self.has_fresh_choice:
            return "stale", gettext("Changed since its take")
        return "ready", gettext("Ready")

    def edit(self, *, text, voice_key, speed, pause_after):
        """Change the line; a change to what is said or how marks every take so far as stale."""
        changed = text != self.text or voice_key != self.voice_key or speed != self.speed
        self.text, self.speed, self.pause_after = text, speed, pause_after
        self.set_voice(voice_key)
        if changed:
            self.revision += 1
        self.save()
        return changed

    def new_take(self, auto_retry=0):
        """A queued take of what the line says now (studio.tasks.queue_take sends it to a worker)."""
        return Take.objects.create(
            auto_retry=auto_retry,
            line=self,
            text=self.text,
            voice=self.provider_voice(),
            voice_label=self.voice_label,
            speed=self.effective_speed,
            volume=self.project.volume,
            revision=self.revision,
        )

    def choose(self, take):
        """The owner's choice: it stands until the owner asks for a new take."""
        self.chosen_take, self.chosen_by_owner = take, True
        self.save(update_fields=["chosen_take", "chosen_by_owner"])

    def choose_best(self):
        """Unless the owner chose by hand, choose the best ready take of the line as it reads now: one
        that passed its check (or was accepted), else the lowest error rate, the newest among equals."""
        if self.chosen_by_owner:
            return
        ready = [t for t in self.takes.filter(status=Take.Status.READY, revision=self.revision)]
        if not ready:
            return

        def rank(take):
            return (*take.check_rank(), -take.pk)  # the newest among equals

        best = min(ready, key=rank)
        Line.objects.filter(pk=self.pk, revision=self.revision, chosen_by_owner=False).update(chosen_take=best)

    def check_state(self):
        """(state, label) of the chosen take's check: "checked", "differs", "checking" or "unchecked"."""
        take = self.chosen_take if self.has_fresh_choice else None
        if take is None:
            return "unchecked", gettext("Unchecked")
        return take.check_state()


class TakeQuerySet(models.QuerySet):
    def owned_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(line__project__owner=user)

    def stuck(self, now=None):
        """Takes not finished whose worker died (its lease ran out unrenewed, clones.leases), or that
        nobody has held and that have not moved for STUCK_AFTER_SECONDS (a message lost before any worker
        took it)."""
        now = now or timezone.now()
        quiet = Q(lease_expires_at__isnull=True, updated_at__lt=now - timedelta(seconds=settings.STUCK_AFTER_SECONDS))
        return self.filter(status__in=Take.PENDING).filter(leases.lapsed(now) | quiet)


def take_upload_to(take, filename):
    return f"takes/{take.uuid}.{filename.rsplit('.', 1)[-1]}"


class Take(HeardBack):
    """One rendition of a line, as it read when the take was asked for; heard back (HeardBack) once made."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SPEAKING = "speaking", _("Speaking")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    PENDING = (Status.QUEUED, Status.SPEAKING)

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="takes", verbose_name=_("line"))
    text = models.TextField(_("text"))
    voice = models.CharField(_("provider voice"), max_length=200)
    voice_label = models.CharField(_("voice"), max_length=100)
    speed = models.FloatField(_("speed"), default=1.0)
    volume = models.FloatField(_("volume"), default=1.0)
    revision = models.PositiveIntegerField(_("line revision"))
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.QUEUED)
    audio = models.FileField(_("audio"), upload_to=take_upload_to, blank=True)
    duration = models.FloatField(_("duration (s)"), null=True, blank=True)
    loudness_lufs = models.FloatField(_("loudness (LUFS)"), null=True, blank=True)
    peak = models.FloatField(_("sample peak"), null=True, blank=True)  # 0..1 of full scale
    # The take's samples brought to a project's loudness target, as raw 16-bit PCM, so that an export
    # joins files instead of decoding every take again.
    normalized = models.FileField(_("normalized audio"), upload_to=take_upload_to, blank=True, editable=False)
    normalized_target = models.FloatField(_("normalized to (LUFS)"), null=True, blank=True, editable=False)
    provider_calls = models.PositiveSmallIntegerField(_("provider calls"), default=0)
    # The text as sent to the provider, after the owner's pronunciation rules ("" until it is spoken).
    sent_text = models.TextField(_("text sent"), blank=True)
    # 0 for a take someone asked for; n for the n-th made again because the one before it differed.
    auto_retry = models.PositiveSmallIntegerField(_("automatic retry"), default=0)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = TakeQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("take")
        verbose_name_plural = _("takes")

    def __str__(self):
        return self.text[:60]

    @property
    def is_finished(self):
        return self.status in (self.Status.READY, self.Status.FAILED)

    @property
    def is_stale(self):
        return self.revision != self.line.revision

    @property
    def is_chosen(self):
        return self.line.chosen_take_id == self.pk

    @property
    def duration_label(self):
        if not self.duration:
            return ""
        return gettext("%(seconds)s s") % {"seconds": floatformat(self.duration, 1)}

    def get_audio_url(self):
        return reverse("studio:take_audio", args=[self.uuid])

    def claim(self):
        """Take the lease; False if the take is finished or another worker holds it."""
        now = timezone.now()
        deadline = leases.lease_deadline(now)
        claimable = Take.objects.filter(leases.unheld(now), pk=self.pk, status__in=self.PENDING)
        # Usually the row is as the task fetched it a moment ago: the claim then needs no second read.
        if claimable.filter(attempts=self.attempts).update(
            status=self.Status.SPEAKING, attempts=self.attempts + 1, lease_expires_at=deadline, updated_at=now
        ):
            self.status, self.attempts, self.lease_expires_at, self.updated_at = (
                self.Status.SPEAKING, self.attempts + 1, deadline, now,
            )  # fmt: skip
            return True
        taken = claimable.update(
            status=self.Status.SPEAKING, attempts=F("attempts") + 1, lease_expires_at=deadline, updated_at=now
        )
        if taken:
            # Only what the claim changed: a whole refresh would drop the line, project and owner the
            # task fetched with the take, and fetch them again one query each.
            self.refresh_from_db(fields=["status", "attempts", "lease_expires_at", "updated_at"])
        return bool(taken)

    def release(self):
        """Give the lease back, unless the save that finished the take already cleared it."""
        if self.lease_expires_at is not None:
            Take.objects.filter(pk=self.pk).update(lease_expires_at=None)

    def accept(self):
        """The owner keeps this take although it differs: it counts as checked, and is chosen."""
        super().accept()
        self.line.choose(self)

    def requeue(self, error):
        self.status = self.Status.QUEUED
        self.error_code, self.error_message = getattr(error, "code", None) or "", str(error)
        self.save(update_fields=["status", "error_code", "error_message", "updated_at"])

    def fail(self, error, message=None):
        self.status, self.finished_at = self.Status.FAILED, timezone.now()
        self.error_code = getattr(error, "code", None) or ""
        self.error_message = message or getattr(error, "message", "") or str(error) or type(error).__name__
        self.lease_expires_at = None
        self.save(update_fields=["status", "finished_at", "error_code", "error_message", "lease_expires_at",
                                 "updated_at"])  # fmt: skip

    def delete_with_files(self):
        for field in (self.audio, self.normalized):
            if field:
                field.delete(save=False)
        self.delete()


def export_upload_to(export, filename):
    return f"exports/{export.uuid}.{export.format}"


class Export(models.Model):
    """The chosen takes joined into one file, with the timings its captions are made from."""

    class Format(models.TextChoices):
        WAV = "wav", "WAV"
        MP3 = "mp3", "MP3"

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Joining")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}
    # What a worker's join (studio.mastering.master) leaves on the export, saved with its outcome.
    RESULT_FIELDS = ("audio", "duration", "cues", "decoded_takes")

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports", verbose_name=_("project"))
    format = models.CharField(_("format"), max_length=3, choices=Format, default=Format.WAV)
    keep_cue_times = models.BooleanField(_("keep each line at its cue's start"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.QUEUED)
    audio = models.FileField(_("audio"), upload_to=export_upload_to, blank=True)
    duration = models.FloatField(_("duration (s)"), null=True, blank=True)
    # [[start, end, text], ...] in seconds: what the captions are made of.
    cues = models.JSONField(_("caption cues"), default=list, blank=True)
    # How many takes this export had to decode because their normalized audio was missing or stale.
    decoded_takes = models.PositiveIntegerField(_("takes decoded"), default=0)
    error_message = models.TextField(_("error message"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self):
        return f"{self.project} ({self.format})"

    @property
    def is_finished(self):
        return self.status in (self.Status.READY, self.Status.FAILED)

    @property
    def content_type(self):
        return self.CONTENT_TYPES[self.format]

    def get_audio_url(self):
        return reverse("studio:export_audio", args=[self.uuid])

    def get_captions_url(self, kind):
        return reverse("studio:export_captions", args=[self.uuid, kind])

    def claim(self):
        taken = Export.objects.filter(pk=self.pk, status=self.Status.QUEUED).update(status=self.Status.RUNNING)
        if taken:
            self.refresh_from_db()
        return bool(taken)

    def mark_ready(self):
        """Save the joined audio, its cues and the ready state; False if the export had finished already."""
        self.status, self.finished_at = self.Status.READY, timezone.now()
        return self._finish(*self.RESULT_FIELDS)

    def fail(self, message):
        self.status, self.finished_at, self.error_message = self.Status.FAILED, timezone.now(), message
        return self._finish("error_message")

    def _finish(self, *fields):
        """Save the outcome and tell the other apps (studio.signals), unless the export has finished
        meanwhile: the sweep may queue again a long export whose worker is only slow, and then two
        workers join it. The first to finish is the one outcome saved and told; the other saves nothing."""
        with transaction.atomic():
            taken = Export.objects.filter(pk=self.pk, status__in=[self.Status.QUEUED, self.Status.RUNNING]).update(
                status=self.status
            )
            if taken:
                self.save(update_fields=["status", "finished_at", "updated_at", *fields])
        if taken:
            export_finished.send(sender=Export, export=self)
        return bool(taken)
