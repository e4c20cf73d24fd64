"""The records: clones, utterances and provider slots, with their permissions, URLs, state transitions
and lease bookkeeping. The provider calls that change them are clones.pipeline; queuing is clones.tasks."""

import logging
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from checks.models import HeardBack
from clones import leases, stored_files
from clones.audio import PROVIDER_FORMATS
from clones.intake import advice_messages
from clones.signals import clone_finished, utterance_finished

logger = logging.getLogger(__name__)


def sample_upload_to(clone, filename):
    # Never a user's filename: names are ours, so nothing a user types can become a path.
    return f"samples/{clone.uuid}.{clone.sample_format}"


def original_upload_to(clone, filename):
    # The extension is the format we detected from the content (the quality report), never the user's.
    return f"originals/{clone.uuid}.{(clone.quality or {}).get('format', 'bin')}"


def preview_upload_to(clone, filename):
    return f"previews/{filename}"


def new_share_token():
    # 256 random bits, URL-safe: a share link cannot be guessed or enumerated.
    return secrets.token_urlsafe(32)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class CloneQuerySet(models.QuerySet):
    def gallery(self):
        # Of a voice with several takes (lab.Take), the gallery shows the main one only.
        return self.filter(
            visibility=Clone.Visibility.PUBLIC,
            status=Clone.Status.READY,
            deletion_requested_at__isnull=True,
            gone_at__isnull=True,
        ).exclude(take__is_main=False)

    def owned_by(self, user):
        return self.filter(owner=user)

    # The one way in for the web views and the API alike: a clone outside these is answered with the
    # same 404 as a missing one. A clone being deleted is gone for everybody.

    def visible_to(self, user):
        """Without the share link: the owner's, every one for staff, and public ones for everybody."""
        live = self.filter(deletion_requested_at__isnull=True)
        if user.is_staff:
            return live
        if not user.is_authenticated:
            return live.filter(visibility=Clone.Visibility.PUBLIC)
        return live.filter(Q(visibility=Clone.Visibility.PUBLIC) | Q(owner=user))

    def manageable_by(self, user):
        """What the user may change, retry, delete or hear the sample of: their own, or any for staff."""
        live = self.filter(deletion_requested_at__isnull=True)
        if user.is_staff:
            return live
        return live.filter(owner=user) if user.is_authenticated else live.none()

    def shared_with(self, user):
        """With the share link: unlisted clones too; private ones stay private but to those who manage them."""
        live = self.filter(deletion_requested_at__isnull=True)
        if user.is_staff:
            return live
        shared = ~Q(visibility=Clone.Visibility.PRIVATE)
        return live.filter(shared | Q(owner=user)) if user.is_authenticated else live.filter(shared)

    def stuck(self, now=None):
        """Unfinished clones whose worker died (its lease ran out unrenewed), or that nobody has held
        and that have not moved for STUCK_AFTER_SECONDS (a message lost before any worker took it)."""
        now = now or timezone.now()
        quiet = Q(lease_expires_at__isnull=True, updated_at__lt=now - timedelta(seconds=settings.STUCK_AFTER_SECONDS))
        return (
            self.filter(deletion_requested_at__isnull=True)
            .exclude(status__in=Clone.FINISHED)
            .filter(leases.lapsed(now) | quiet)
        )

    def may_have_late_voice(self, now=None):
        """Failed clones whose clone call may have landed at the provider after we gave up on it."""
        now = now or timezone.now()
        return self.filter(
            status=Clone.Status.FAILED,
            voice_id="",
            clone_requested_at__isnull=False,
            late_voice_checked_at__isnull=True,
            finished_at__lt=now - provider_call_settled(),
            deletion_requested_at__isnull=True,
        )

    def deletion_stuck(self, now=None):
        now = now or timezone.now()
        return self.filter(
            deletion_requested_at__lt=now - timedelta(seconds=settings.STUCK_AFTER_SECONDS),
        ).filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))


def new_voice_name():
    """The provider-side voice name: unique across the whole account that one API key serves."""
    return f"vc_{uuid.uuid4().hex[:24]}"


class Clone(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        UPLOADING = "uploading", _("Uploading sample")
        CLONING = "cloning", _("Cloning voice")
        FETCHING_PREVIEW = "fetching_preview", _("Fetching preview")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    class PreviewRoute(models.TextChoices):
        DOWNLOAD_URL = "download_url", _("Voice list download URL")
        FILE_CONTENT = "file_content", _("File content")
        SPEECH = "speech", _("Spoken with the new voice")
        UNAVAILABLE = "unavailable", _("Unavailable")

    class ErrorKind(models.TextChoices):
        UNAVAILABLE = "unavailable", _("Service unavailable")
        ACCOUNT = "account", _("Provider account problem")
        REJECTED = "rejected", _("Rejected by the provider")
        CONTENT = "content", _("Content policy")
        INTERNAL = "internal", _("Internal error")

    class Visibility(models.TextChoices):
        PRIVATE = "private", _("Private: only you")
        UNLISTED = "unlisted", _("Unlisted: anyone with the link")
        PUBLIC = "public", _("Public: listed in the gallery")

    class Language(models.TextChoices):
        CHINESE = "zh", _("Chinese")
        ENGLISH = "en", _("English")
        OTHER = "other", _("Other")

    FINISHED = (Status.READY, Status.FAILED)

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clones", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=100)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility, default=Visibility.PRIVATE, db_index=True
    )
    share_token = models.CharField(
        _("share token"), max_length=64, unique=True, default=new_share_token, editable=False
    )
    language = models.CharField(_("language"), max_length=8, choices=Language, default=Language.ENGLISH)
    tags = models.ManyToManyField(Tag, blank=True, related_name="clones", verbose_name=_("tags"))
    # Who confirmed having the right to clone this voice, and when.
    consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        editable=False,
        verbose_name=_("consent given by"),
    )
    consent_at = models.DateTimeField(_("consent given"), null=True, editable=False)
    voice_name = models.CharField(
        _("provider voice name"), max_length=64, unique=True, default=new_voice_name, editable=False
    )
    provider_model = models.CharField(_("clone model"), max_length=64)

    # Blank only for voices imported from the provider, which come without our copy of the sample.
    # What we upload: the normalized (and possibly trimmed) WAV; clones made before audio intake keep
    # the file as it was uploaded here, with no original, quality report or peaks.
    sample = models.FileField(_("voice sample"), upload_to=sample_upload_to, max_length=200, blank=True)
    sample_format = models.CharField(_("sample format"), max_length=8, blank=True, editable=False)
    sample_duration = models.FloatField(_("sample duration (s)"), null=True, editable=False)
    original = models.FileField(_("original upload"), upload_to=original_upload_to, max_length=200, blank=True)
    # The quality report of clones.intake.prepare_sample (advice as codes; messages are made at render time).
    quality = models.JSONField(_("sample quality"), null=True, blank=True, editable=False)
    sample_peaks = models.JSONField(default=list, blank=True, editable=False)
    preview_peaks = models.JSONField(default=list, blank=True, editable=False)
    # Known before anyone presses play, so the gallery can say how long a preview is.
    preview_duration = models.FloatField(_("preview duration (s)"), null=True, blank=True, editable=False)
    transcript = models.TextField(_("transcript of the sample"), blank=True)
    preview_text = models.TextField(_("preview text"))

    sample_file_id = models.CharField(_("sample file id"), max_length=200, blank=True)
    voice_id = models.CharField(_("provider voice id"), max_length=200, blank=True, db_index=True)
    preview_file_id = models.CharField(_("preview file id"), max_length=200, blank=True)
    preview_audio = models.FileField(_("preview audio"), upload_to=preview_upload_to, blank=True)
    # Which route served the preview (clones.bigmodel.BigModelClient.fetch_preview), or UNAVAILABLE: the
    # voice is ready but no route gave a preview, and its owner may ask for it again.
    preview_route = models.CharField(
        _("preview route"), max_length=20, choices=PreviewRoute.choices, blank=True, editable=False
    )

    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.QUEUED)
    error_kind = models.CharField(_("kind of error"), max_length=20, choices=ErrorKind, blank=True)
    error_code = models.CharField(_("provider error code"), max_length=32, blank=True)
    error_message = models.TextField(_("provider error message"), blank=True)
    # What the owner is told, as the English source text of the provider error's sentence; translated
    # when shown, so every reader gets it in their own language.
    failure_message = models.TextField(_("failure message"), blank=True, editable=False)
    request_id = models.CharField(_("last request id"), max_length=64, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Set just before the clone call goes out: from then on the provider may hold our voice.
    clone_requested_at = models.DateTimeField(_("clone requested"), null=True, blank=True, editable=False)
    # When a failed clone was last checked for a voice that a slow, timed-out clone call made later.
    late_voice_checked_at = models.DateTimeField(_("checked for a late voice"), null=True, blank=True, editable=False)
    # A worker holds a clone while it works on it, so a redelivered task cannot run it twice.
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True, editable=False)
    # Set when the owner deletes the clone: the row stays until the provider voice is gone too.
    deletion_requested_at = models.DateTimeField(_("deletion requested"), null=True, blank=True, editable=False)
    # Set by reconciliation when the provider no longer has the voice.
    gone_at = models.DateTimeField(_("gone at the provider"), null=True, blank=True, editable=False)
    allow_public_speech = models.BooleanField(
        _("anyone who can see it may make it speak"),
        default=False,
        help_text=_("Applies only while the clone is public; people must be logged in to make it speak."),
    )

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # When the voice first became usable. A clone is announced ready (clone_finished) only when this is
    # set, once: fetching a missing preview again ends in "ready" a second time, and is no new clone.
    first_ready_at = models.DateTimeField(_("first ready"), null=True, blank=True, editable=False)

    objects = CloneQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Exactly the gallery's rows, newest first, ties broken by id: a keyset page (clones.keyset)
            # starts at its cursor in this index and reads one page of it, however deep. On PostgreSQL a
            # trigram index on the same rows serves the name search (migration gallery_search_indexes).
            models.Index(
                fields=["-created_at", "-id"],
                name="gallery_keyset_idx",
                condition=Q(
                    visibility="public", status="ready", deletion_requested_at__isnull=True, gone_at__isnull=True
                ),
            )
        ]
        verbose_name = _("voice clone")
        verbose_name_plural = _("voice clones")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("clones:detail", args=[self.uuid])

    @property
    def preview_content_type(self):
        """The stored preview's type, from the extension we gave it when we sniffed its bytes."""
        return PROVIDER_FORMATS.get(self.preview_audio.name.rsplit(".", 1)[-1])

    @property
    def preview_url(self):
        return reverse("clones:preview", args=[self.uuid])

    @property
    def sample_url(self):
        return reverse("clones:sample", args=[self.uuid])

    @property
    def sample_advice(self):
        return advice_messages(self.quality) if self.quality else []

    def get_share_url(self):
        return reverse("clones:share", args=[self.share_token])

    @property
    def share_preview_url(self):
        return reverse("clones:share_preview", args=[self.share_token])

    def is_owned_by(self, user):
        return user.is_authenticated and self.owner_id == user.pk

    def can_manage(self, user):
        """For a clone already in hand (what a page offers); fetching one goes through the querysets."""
        return self.is_owned_by(user) or user.is_staff

    def can_speak(self, user):
        if not (self.is_ready and self.voice_id and self.gone_at is None and user.is_authenticated):
            return False
        shared = self.visibility == self.Visibility.PUBLIC and self.allow_public_speech
        return shared or self.can_manage(user)

    def rotate_share_token(self):
        self.share_token = new_share_token()
        self.save(update_fields=["share_token", "updated_at"])

    def reset_for_retry(self, *changed_fields):
        """Back to the queue, its error cleared; steps that have their result are kept and skipped.
        Queuing it is clones.tasks.retry_clone's part."""
        self.status = self.Status.QUEUED
        self.error_kind = self.error_code = self.error_message = self.failure_message = ""
        self.finished_at = None
        self.save(
            update_fields=["status", "error_kind", "error_code", "error_message", "failure_message", "finished_at",
                           "updated_at", *changed_fields]
        )  # fmt: skip

    @property
    def is_finished(self):
        return self.status in self.FINISHED

    @property
    def is_ready(self):
        return self.status == self.Status.READY

    @property
    def failure_reason(self):
        # The sentence of the provider's error code (clones.bigmodel.ERROR_CODES), kept as its source text
        # and translated here, says most precisely what went wrong and who must act.
        if self.failure_message:
            return gettext(self.failure_message)
        reasons = {
            self.ErrorKind.UNAVAILABLE: _(
                "The voice service is unavailable or overloaded right now. Please try again later."
            ),
            self.ErrorKind.ACCOUNT: _(
                "The site's voice service account cannot be used right now (for example, its "
                "balance is in arrears). The site's staff need to fix this."
            ),
            self.ErrorKind.REJECTED: _("The voice service rejected this sample or text."),
            self.ErrorKind.CONTENT: _("The voice service refused this content under its content policy."),
            self.ErrorKind.INTERNAL: _("Something went wrong on our side. The site's staff have been told."),
        }
        return reasons.get(self.error_kind, "")

    def steps(self):
        """The progress steps shown on the clone page, each marked done, current or to do."""
        order = [s for s in self.Status if s != self.Status.FAILED]
        reached = order.index(self.status) if self.status in order else -1
        return [
            {"status": s.value, "label": s.label, "done": i < reached or self.is_ready, "current": i == reached}
            for i, s in enumerate(order)
        ]

    def status_data(self):
        """The clone's progress as the status poll of the page and the JSON API both report it."""
        return {
            "status": self.status,
            "label": str(self.get_status_display()),
            "finished": self.is_finished,
            "failure_reason": str(self.failure_reason),
            "preview_unavailable": self.preview_unavailable,
            "steps": [{"status": s["status"], "done": s["done"], "current": s["current"]} for s in self.steps()],
        }

    # -- the lease and the steps' bookkeeping (the provider calls are clones.pipeline) --------

    def claim(self, for_deletion=False):
        """Take the lease on this clone; False if another worker holds it or there is nothing to do."""
        now = timezone.now()
        candidates = Clone.objects.filter(pk=self.pk)
        if for_deletion:
            candidates = candidates.filter(deletion_requested_at__isnull=False)
        else:
            candidates = candidates.exclude(status__in=self.FINISHED).filter(deletion_requested_at__isnull=True)
        updates = {
            "lease_expires_at": leases.lease_deadline(now),
            "attempts": F("attempts") + 1,
            "started_at": Coalesce("started_at", now),
        }
        if not for_deletion:
            updates["status"] = self._status_of_next_step()
        taken = candidates.filter(leases.unheld(now)).update(**updates)
        if taken:
            self.refresh_from_db()
        return bool(taken)

    @classmethod
    def _status_of_next_step(cls):
        """The status naming the first step whose result the row lacks, as a database expression."""
        return Case(
            When(sample_file_id="", then=Value(cls.Status.UPLOADING)),
            When(voice_id="", then=Value(cls.Status.CLONING)),
            When(
                Q(preview_audio="") & ~Q(preview_route=cls.PreviewRoute.UNAVAILABLE),
                then=Value(cls.Status.FETCHING_PREVIEW),
            ),
            default=F("status"),
        )

    def release(self):
        if self.lease_expires_at is not None:  # the last step's save may have ended the lease already
            Clone.objects.filter(pk=self.pk).update(lease_expires_at=None)
            self.lease_expires_at = None

    # -- deletion: the provider voice first, then our files and row -----------------------

    @property
    def is_deleting(self):
        return self.deletion_requested_at is not None

    def mark_deletion_requested(self):
        self.deletion_requested_at = timezone.now()
        self.save(update_fields=["deletion_requested_at", "updated_at"])

    def delete_with_files(self):
        """The clone, every row that goes with it (speech, the lab's sample parts, ...) and their files."""
        stored_files.delete_with_files(self)

    def mark_failed(self, kind, code, message, failure_message=""):
        fields = {"error_kind": kind, "error_code": code, "error_message": message, "failure_message": failure_message}
        if self._finish(self.Status.FAILED, **fields):
            clone_finished.send(sender=Clone, clone=self)

    def mark_preview_unavailable(self, code, message):
        """Ready without a preview: the voice works; the provider's last word is kept for staff."""
        fields = {"preview_route": self.PreviewRoute.UNAVAILABLE, "error_kind": "", "failure_message": ""}
        if self._finish(self.Status.READY, error_code=code, error_message=message, lease_expires_at=None, **fields):
            self._announce_ready()

    def _finish(self, status, **fields):
        """Finish the clone with `status` and `fields`, unless it has finished meanwhile; whether it did.

        The sweep may give up on a clone whose worker is only slow and then finishes it, or the other
        way round: whichever comes first is the one transition, saved and told; the other changes nothing.
        """
        now = timezone.now()
        fields.update(status=status, finished_at=now)
        taken = Clone.objects.filter(pk=self.pk).exclude(status__in=self.FINISHED).update(**fields, updated_at=now)
        if not taken:
            self.refresh_from_db()
            return False
        for name, value in fields.items():
            setattr(self, name, value)
        self.updated_at = now
        return True

    @property
    def preview_unavailable(self):
        """Ready, with a voice, but no route gave a preview: its owner may fetch it again."""
        return self.is_ready and not self.preview_audio and self.preview_route == self.PreviewRoute.UNAVAILABLE

    def wants_preview(self):
        return not self.preview_audio and self.preview_route != self.PreviewRoute.UNAVAILABLE

    def note_retry(self, error, retry_in):
        """Keep the latest transient error for staff while the task waits `retry_in` seconds to try again.

        The wait holds a lease that runs out when the retry is due: the retry takes it then, and if this
        worker died meanwhile (its retry message with it), the sweep finds the lease lapsed and queues
        the clone again within a SWEEP_INTERVAL of that time, not STUCK_AFTER_SECONDS later. If both
        come, the second finds the clone claimed and stops."""
        self.error_code = error.code or ""
        self.error_message = error.message
        self.lease_expires_at = timezone.now() + timedelta(seconds=retry_in)
        self.save(update_fields=["error_code", "error_message", "lease_expires_at", "updated_at"])

    def _save_status(self, status, *fields):
        self.status = status
        # Only the fields this step owns: a rename saved meanwhile by the web process must survive.
        self.save(update_fields=["status", "updated_at", *fields])

    def save_step(self, *fields):
        """Save a step's result with the status of what comes next; after the last step, the clone is
        ready and the worker's lease ends in the same statement."""
        if not self.sample_file_id:
            self._save_status(self.Status.UPLOADING, *fields)
        elif not self.voice_id:
            self._save_status(self.Status.CLONING, *fields)
        elif self.wants_preview():
            self._save_status(self.Status.FETCHING_PREVIEW, *fields)
        else:
            self.error_kind = self.error_code = self.error_message = self.failure_message = ""
            self.finished_at = timezone.now()
            self.lease_expires_at = None
            self._save_status(self.Status.READY, *fields, "finished_at", "lease_expires_at", "error_kind",
                              "error_code", "error_message", "failure_message")  # fmt: skip
            self._announce_ready()

    def _announce_ready(self):
        """Tell the other apps (webhooks, metrics) that the clone is ready, the first time only. The
        conditional update decides it in the database, so two processes finishing it at once cannot
        both tell; a preview fetched again later ends ready without a second announcement."""
        first = Clone.objects.filter(pk=self.pk, first_ready_at__isnull=True).update(first_ready_at=self.finished_at)
        if first:
            self.first_ready_at = self.finished_at
            clone_finished.send(sender=Clone, clone=self)


# The provider's system voices (docs/provider-notes.md), the one list of them in the project.
SYSTEM_VOICES = [
    ("tongtong", _("Tongtong (default)")),
    ("chuichui", _("Chuichui")),
    ("xiaochen", _("Xiaochen")),
    ("jam", _("Jam")),
    ("kazi", _("Kazi")),
    ("douji", _("Douji")),
    ("luodo", _("Luodo")),
]


class UtteranceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """An utterance is its owner's (and staff's) alone, whoever's voice it is spoken in."""
        if user.is_staff:
            return self
        return self.filter(owner=user) if user.is_authenticated else self.none()


def utterance_upload_to(utterance, filename):
    return f"utterances/{utterance.uuid}.wav"


class Utterance(HeardBack):
    """A text spoken in a cloned voice or a system voice; heard back (HeardBack) once spoken, when its
    owner checks speech, and spoken again while it differs (checks.tasks)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SPEAKING = "speaking", _("Speaking")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="utterances", verbose_name=_("owner")
    )
    clone = models.ForeignKey(
        Clone, on_delete=models.CASCADE, null=True, blank=True, related_name="utterances", verbose_name=_("clone")
    )
    system_voice = models.CharField(_("system voice"), max_length=20, choices=SYSTEM_VOICES, blank=True)
    text = models.TextField(_("text"))
    # The text as sent to the provider, after the owner's pronunciation rules (checks.models).
    sent_text = models.TextField(_("text sent"), blank=True)
    # Heard back and compared with the text once spoken, and spoken again while it differs (checks/):
    # the owner's choice (accounts.models.Preferences), or the request's where it said.
    check_requested = models.BooleanField(_("hear it back and check it"), default=False)
    speed = models.FloatField(_("speed"), default=1.0)
    volume = models.FloatField(_("volume"), default=1.0)
    audio = models.FileField(_("audio"), upload_to=utterance_upload_to, blank=True)
    duration = models.FloatField(_("duration (s)"), null=True, blank=True)
    parts = models.PositiveSmallIntegerField(_("parts"), default=0)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.QUEUED)
    error_code = models.CharField(_("provider error code"), max_length=32, blank=True)
    error_message = models.TextField(_("provider error message"), blank=True)
    # As on Clone: the source text of the provider code's sentence, translated when shown.
    failure_message = models.TextField(_("failure message"), blank=True, editable=False)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Held by the worker speaking it (clones.leases), so that neither a redelivered message nor the
    # sweep sends its text to the provider a second time while it is being spoken; once it is ready,
    # by the worker hearing it back or speaking it again (checks.tasks).
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True, editable=False)
    # When it was last put in the queue (created, waiting for a retry, queued again by the sweep).
    queued_at = models.DateTimeField(_("queued"), default=timezone.now, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Set now and then by a stream being played from the web process (clones.streaming), so the sweep
    # leaves a long stream alone while it is alive.

    objects = UtteranceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("utterance")
        verbose_name_plural = _("utterances")
        constraints = [
            models.CheckConstraint(
                condition=Q(clone__isnull=False, system_voice="") | Q(clone__isnull=True) & ~Q(system_voice=""),
                name="utterance_has_one_voice",
            )
        ]

    def __str__(self):
        return self.text[:60]

    @property
    def voice(self):
        return self.clone.voice_id if self.clone_id else self.system_voice

    @property
    def voice_label(self):
        return self.clone.name if self.clone_id else self.get_system_voice_display()

    @property
    def is_finished(self):
        return self.status in (self.Status.READY, self.Status.FAILED)

    @property
    def duration_label(self):
        """The length in the active language, as the page shows it ("4.2 s", "4.2 秒")."""
        if not self.duration:
            return ""
        return gettext("%(seconds)s s") % {"seconds": floatformat(self.duration, 1)}

    def get_audio_url(self):
        return reverse("clones:utterance_audio", args=[self.uuid])

    @property
    def download_name(self):
        """A file name people can find again: the voice, the first words, the time ("Ada - Hello there.wav")."""
        words = " ".join(self.text.split()[:8])[:40]
        stamp = timezone.localtime(self.created_at).strftime("%Y-%m-%d %H.%M")
        name = f"{self.voice_label} - {words} ({stamp})"
        # Nothing a file system or a browser would trip over: no separators, quotes or control characters.
        return "".join(" " if c in '\\/:*?"<>|' or ord(c) < 32 else c for c in name).strip() + ".wav"

    def claim(self):
        """Take the lease; False if another worker holds it or it is finished. An utterance left
        "speaking" by a worker that died is taken over once that worker's lease has run out."""
        now = timezone.now()
        # A queued one is free to take (a lease on it only tells the sweep when its retry is due);
        # one being spoken only once its worker's lease has run out.
        takeable = Q(status=self.Status.QUEUED) | Q(leases.unheld(now), status=self.Status.SPEAKING)
        taken = Utterance.objects.filter(takeable, pk=self.pk).update(
            status=self.Status.SPEAKING, attempts=F("attempts") + 1, lease_expires_at=leases.lease_deadline(now)
        )
        if taken:
            self.refresh_from_db()
        return bool(taken)

    def claim_redo(self):
        """Take the lease for speaking it again (checks.tasks.redo_utterance); False if another worker
        holds it or it is not waiting to be spoken again."""
        now = timezone.now()
        taken = Utterance.objects.filter(
            leases.unheld(now), pk=self.pk, status=self.Status.READY, check_status=self.Check.REDOING
        ).update(lease_expires_at=leases.lease_deadline(now))
        if taken:
            self.refresh_from_db()
        return bool(taken)

    def keep_attempt(self, attempt):
        """Make a heard-back attempt the utterance's speech: its audio, its length, and its check."""
        self.audio.name, self.duration, self.parts = attempt.audio.name, attempt.duration, attempt.provider_calls
        self.sent_text = attempt.sent_text
        for name in self.CHECK_RESULT:
            setattr(self, name, getattr(attempt, name))
        self.save(update_fields=["audio", "duration", "parts", "sent_text", *self.CHECK_RESULT])

    def mark_ready(self, duration, parts):
        self.duration, self.parts = duration, parts
        self.status, self.finished_at = self.Status.READY, timezone.now()
        self.error_code = self.error_message = ""
        self.lease_expires_at = None
        if self.check_requested:
            # In the same save that makes it ready: it is never seen ready and not yet to be checked.
            self.check_status = self.Check.PENDING
        self.save()
        utterance_finished.send(sender=Utterance, utterance=self)

    @staticmethod
    def stream_lease_deadline(now=None):
        """When the lease of an utterance being streamed by the web process (clones.streaming) runs out.

        The stream renews it as its audio flows; it lasts as long as a stalled provider call can, so the
        sweep never takes the row from a live stream, and takes it soon after a dead one."""
        return (now or timezone.now()) + provider_call_settled()

    def _ours_while_streaming(self):
        return Utterance.objects.filter(pk=self.pk, status=self.Status.SPEAKING, attempts=self.attempts)

    def finish_stream(self, duration, parts):
        """Store a streamed take as ready, unless the stream lost the row meanwhile (its lease ran out and
        the sweep queued it again, so a worker now owns it). Returns whether it was stored."""
        self.duration, self.parts = duration, parts
        stored = self._ours_while_streaming().update(
            audio=self.audio.name,
            duration=duration,
            parts=parts,
            status=self.Status.READY,
            finished_at=timezone.now(),
            lease_expires_at=None,
            error_code="",
            error_message="",
            failure_message="",
            check_status=self.Check.PENDING if self.check_requested else "",
        )
        if stored:
            self.refresh_from_db()
            utterance_finished.send(sender=Utterance, utterance=self)
        return bool(stored)

    def beat(self):
        """A stream's sign of life: its lease renewed; False once the row is no longer this stream's."""
        return bool(self._ours_while_streaming().update(lease_expires_at=self.stream_lease_deadline()))

    def hand_to_queue(self, error):
        """A broken stream's row, queued for a worker to speak whole; False if it is not ours any more."""
        return bool(
            self._ours_while_streaming().update(
                status=self.Status.QUEUED,
                lease_expires_at=None,
                queued_at=timezone.now(),
                error_code=getattr(error, "code", None) or "",
                error_message=str(error),
            )
        )

    def requeue(self, error, retry_in):
        """Wait `retry_in` seconds for a retry. The lease is kept until the retry is due and a lease
        after that, so that if this worker dies meanwhile (and its retry message with it) the sweep
        queues the utterance again then, and not before."""
        now = timezone.now()
        self.status, self.queued_at = self.Status.QUEUED, now
        self.lease_expires_at = leases.lease_deadline(now + timedelta(seconds=retry_in))
        self.error_code, self.error_message = error.code or "", error.message
        self.save(update_fields=["status", "lease_expires_at", "queued_at", "error_code", "error_message"])

    def mark_swept(self):
        """Queued again by the sweep: not swept again before its new message had a chance to run."""
        Utterance.objects.filter(pk=self.pk).update(
            status=self.Status.QUEUED, lease_expires_at=None, queued_at=timezone.now()
        )

    def mark_failed(self, code, message, failure_message=""):
        self.status, self.finished_at, self.lease_expires_at = self.Status.FAILED, timezone.now(), None
        self.error_code, self.error_message, self.failure_message = code, message, failure_message
        self.save(
            update_fields=[
                "status",
                "finished_at",
                "lease_expires_at",
                "error_code",
                "error_message",
                "failure_message",
            ]
        )
        utterance_finished.send(sender=Utterance, utterance=self)

    @property
    def failure_reason(self):
        """What its owner is told when it failed: the provider code's sentence, if it had one."""
        if self.status != self.Status.FAILED:
            return ""
        if self.failure_message:
            return gettext(self.failure_message)
        return _("The voice service could not speak this text.")


def provider_call_settled():
    """How long after it went out a provider call has surely ended, answered or timed out: its connect
    and read timeouts plus a margin. A slot's lease, and the wait before a failed clone is checked for a
    voice that a slow clone call made after all, are both this long."""
    return timedelta(seconds=settings.BIGMODEL_CONNECT_TIMEOUT + settings.BIGMODEL_READ_TIMEOUT + 30)


class ProviderSlot(models.Model):
    """One of PROVIDER_MAX_CONCURRENCY permits to call the provider (see clones.provider_slots)."""

    number = models.PositiveSmallIntegerField(_("number"), primary_key=True)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("provider slot")
        verbose_name_plural = _("provider slots")

    def __str__(self):
        return f"slot {self.number}"


def utterances_to_sweep(now=None):
    """Unfinished utterances whose worker died (lease run out), or queued STUCK_AFTER_SECONDS ago and not taken."""
    now = now or timezone.now()
    never_taken = Q(lease_expires_at__isnull=True, queued_at__lt=now - timedelta(seconds=settings.STUCK_AFTER_SECONDS))
    return Utterance.objects.filter(status__in=[Utterance.Status.QUEUED, Utterance.Status.SPEAKING]).filter(
        leases.lapsed(now) | never_taken
    )
