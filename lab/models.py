"""The lab's records about a clone: where its sample came from, its sibling takes, listening rounds, scores."""

import random
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clones.models import Clone


def part_upload_to(part, filename):
    # Our names only: the file is the part's intake result (a normalized WAV), never the user's file name.
    return f"lab/parts/{part.clone.uuid}-{part.position}.wav"


class SamplePart(models.Model):
    """One of the recordings a sample was joined from, with the stretches of it the sample kept."""

    clone = models.ForeignKey(Clone, on_delete=models.CASCADE, related_name="sample_parts", verbose_name=_("clone"))
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("file name"), max_length=200)  # shown only, never used as a path
    # The intake's result for this file (at most 30 s, normalized), kept so a sibling can take other stretches.
    audio = models.FileField(_("prepared audio"), upload_to=part_upload_to, max_length=200)
    report = models.JSONField(_("quality report"))
    # [{"start", "end", "at"}]: seconds in the prepared audio, and where the stretch sits in the joined sample.
    stretches = models.JSONField(_("kept stretches"), default=list)

    class Meta:
        ordering = ["clone", "position"]
        constraints = [models.UniqueConstraint(fields=["clone", "position"], name="lab_part_position_unique")]
        verbose_name = _("sample part")
        verbose_name_plural = _("sample parts")

    def __str__(self):
        return self.name

    @property
    def kept_seconds(self):
        return round(sum(s["end"] - s["start"] for s in self.stretches), 1)


class Voice(models.Model):
    """Several takes (sibling clones) of one person's voice; one of them is the main take."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("owner"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("voice")
        verbose_name_plural = _("voices")

    def __str__(self):
        main = self.takes.filter(is_main=True).select_related("clone").first()
        return main.clone.name if main else str(self.pk)


class Take(models.Model):
    voice = models.ForeignKey(Voice, on_delete=models.CASCADE, related_name="takes", verbose_name=_("voice"))
    clone = models.OneToOneField(Clone, on_delete=models.CASCADE, related_name="take", verbose_name=_("clone"))
    number = models.PositiveSmallIntegerField(_("take number"))
    is_main = models.BooleanField(_("main take"), default=False)

    class Meta:
        ordering = ["voice", "number"]
        constraints = [
            models.UniqueConstraint(fields=["voice"], condition=Q(is_main=True), name="lab_one_main_take"),
            models.UniqueConstraint(fields=["voice", "number"], name="lab_take_number_unique"),
        ]
        verbose_name = _("take")
        verbose_name_plural = _("takes")

    def __str__(self):
        return f"{self.clone.name} #{self.number}"


class ListeningRoundQuerySet(models.QuerySet):
    def tally(self):
        """{"answered", "correct", "fooled"}: how often listeners told the original from the clone."""
        counts = self.filter(answered_at__isnull=False, other__isnull=True).aggregate(
            answered=Count("pk"), correct=Count("pk", filter=Q(correct=True))
        )
        counts["fooled"] = counts["answered"] - counts["correct"]
        return counts


def take_tally(clone):
    """{"compared", "preferred"}: take-against-take rounds this clone was in, and how often it was chosen."""
    answered = ListeningRound.objects.filter(answered_at__isnull=False, other__isnull=False)
    as_clone = answered.filter(clone=clone)
    as_other = answered.filter(other=clone)
    preferred = (
        as_clone.filter(answer=models.F("original_is")).count()
        + as_other.exclude(answer=models.F("original_is")).count()
    )
    return {"compared": as_clone.count() + as_other.count(), "preferred": preferred}


class ListeningRound(models.Model):
    """One blind A/B trial in an order the listener cannot see: the clone's sample against its preview,
    or (with `other`) the clone's preview against another take's preview of the same voice."""

    class Answer(models.TextChoices):
        A = "a", "A"
        B = "b", "B"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clone = models.ForeignKey(Clone, on_delete=models.CASCADE, related_name="listening_rounds", verbose_name=_("clone"))
    # The side that plays the original sample or, in a take-against-take round, this clone's preview.
    original_is = models.CharField(_("the original is"), max_length=1, choices=Answer)
    other = models.ForeignKey(
        Clone,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("other take"),
    )
    # Started from the share link: then the link's rules (unlisted clones too) apply to the round.
    shared = models.BooleanField(_("started from the share link"), default=False)
    listener = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("listener")
    )
    answer = models.CharField(_("answer"), max_length=1, choices=Answer, blank=True)
    correct = models.BooleanField(_("correct"), null=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    objects = ListeningRoundQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("listening round")
        verbose_name_plural = _("listening rounds")

    def __str__(self):
        return str(self.uuid)

    def get_absolute_url(self):
        return reverse("lab:round", args=[self.uuid])

    @classmethod
    def start(cls, clone, user, *, shared, other=None):
        return cls.objects.create(
            clone=clone,
            other=other,
            original_is=random.SystemRandom().choice(cls.Answer.values),  # noqa: S311 - not a secret, just unbiased
            shared=shared,
            listener=user if user.is_authenticated else None,
        )

    @property
    def compares_takes(self):
        return self.other_id is not None

    def audio_for(self, side):
        """(file, content type) that plays as `side`."""
        if self.compares_takes:
            clone = self.clone if side == self.original_is else self.other
            return clone.preview_audio, clone.preview_content_type
        if side == self.original_is:
            return self.clone.sample, "audio/wav"
        return self.clone.preview_audio, self.clone.preview_content_type

    @property
    def preferred(self):
        """In a take-against-take round, the take the listener chose."""
        if not (self.compares_takes and self.answer):
            return None
        return self.clone if self.answer == self.original_is else self.other

    def audio_url(self, side):
        return reverse("lab:round_audio", args=[self.uuid, side])

    def can_listen(self, user):
        """The clones' own rules: the share link's if the round started from it, else their pages'."""
        clones = Clone.objects.shared_with(user) if self.shared else Clone.objects.visible_to(user)
        wanted = {self.clone_id, self.other_id} - {None}
        return clones.filter(pk__in=wanted).count() == len(wanted)

    @property
    def is_answered(self):
        return self.answered_at is not None

    def record(self, answer, when):
        """Save the listener's answer once; a second answer to the same round changes nothing."""
        correct = None if self.compares_takes else answer == self.original_is
        updated = ListeningRound.objects.filter(pk=self.pk, answered_at__isnull=True).update(
            answer=answer, correct=correct, answered_at=when
        )
        self.refresh_from_db()
        return bool(updated)


class SimilarityScore(models.Model):
    """Cosine similarity of speaker embeddings: the clone's sample against its preview."""

    clone = models.OneToOneField(Clone, on_delete=models.CASCADE, related_name="similarity", verbose_name=_("clone"))
    score = models.FloatField(_("similarity"))
    model = models.CharField(_("model"), max_length=64)
    seconds = models.FloatField(_("time taken (s)"))
    created_at = models.DateTimeField(_("measured"), auto_now_add=True)

    class Meta:
        verbose_name = _("similarity score")
        verbose_name_plural = _("similarity scores")

    def __str__(self):
        return f"{self.clone}: {self.score:.2f}"

    @property
    def percent(self):
        return round(max(self.score, 0.0) * 100)

    @property
    def band(self):
        """Plain words for the score; thresholds from Resemblyzer's own same/different speaker examples."""
        if self.score >= 0.85:
            return "close"
        if self.score >= 0.75:
            return "similar"
        return "different"
