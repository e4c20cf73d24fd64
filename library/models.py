"""The voice library: what people think of public voices (likes, saved voices), how often they are
heard and used, and the clips an owner shows off. Counts are kept on VoiceStats, one row per voice,
so a gallery page reads them in the same query as its clones instead of counting per card."""

import hashlib
import hmac
from collections import defaultdict, namedtuple

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, OuterRef, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clones.models import Clone, Utterance

SHOWCASE_MAX = 3


# What a voice card (clones/_card.html) reads of a clone, its owner and its counts. A gallery row has
# large JSON columns (the quality report, the sample's peaks) a card never shows: not fetching them
# halves the cost of a page's main query.
CARD_FIELDS = (
    "uuid", "name", "language", "preview_duration", "preview_peaks", "allow_public_speech", "created_at",
    "owner__username", "stats__likes", "stats__plays", "stats__uses",
)  # fmt: skip


def for_cards(clones, user):
    """`clones` with what a voice card shows: the owner and the counts joined in, and whether `user`
    liked or saved each one as two EXISTS columns of the same query. Evaluate it with `card_list`."""
    if user.is_authenticated:
        marked = Mark.objects.filter(user=user, clone=OuterRef("pk"))
        liked, saved = Exists(marked.filter(kind=Mark.Kind.LIKE)), Exists(marked.filter(kind=Mark.Kind.SAVE))
    else:
        liked = saved = Value(False)
    return clones.select_related("owner", "stats").only(*CARD_FIELDS).annotate(liked=liked, saved=saved)


def card_list(clones):
    """The rows of `for_cards(...)`, each with `card_tags` (names) and `card_clips` (showcase clips, in
    order), read in one query each for the whole list. Plain values, not prefetch_related: Django's
    prefetch builds a related manager and a queryset per row, which cost more than the queries."""
    clones = list(clones)
    ids = [clone.pk for clone in clones]
    tags, clips = defaultdict(list), defaultdict(list)
    if ids:
        through = Clone.tags.through.objects.filter(clone_id__in=ids).order_by("tag__name")
        for clone_id, name in through.values_list("clone_id", "tag__name"):
            tags[clone_id].append(name)
        showcase = Showcase.objects.filter(clone_id__in=ids).order_by("position")
        for clone_id, pk, text in showcase.values_list("clone_id", "pk", "utterance__text"):
            clips[clone_id].append(Clip(pk, text))
    for clone in clones:
        clone.card_tags, clone.card_clips = tags[clone.pk], clips[clone.pk]
    return clones


Clip = namedtuple("Clip", "pk text")


class VoiceStats(models.Model):
    """The counters of one voice; a voice nobody has liked, saved, played or used has no row."""

    clone = models.OneToOneField(
        Clone, on_delete=models.CASCADE, primary_key=True, related_name="stats", verbose_name=_("clone")
    )
    likes = models.PositiveIntegerField(_("likes"), default=0)
    saves = models.PositiveIntegerField(_("saves"), default=0)
    plays = models.PositiveIntegerField(_("plays"), default=0)
    uses = models.PositiveIntegerField(_("uses"), default=0)

    class Meta:
        verbose_name = _("voice statistics")
        verbose_name_plural = _("voice statistics")
        indexes = [
            models.Index(fields=["-likes"], name="stats_likes_idx"),
            models.Index(fields=["-uses"], name="stats_uses_idx"),
        ]

    def __str__(self):
        return str(self.clone_id)

    @classmethod
    def bump(cls, clone_id, counter, by=1):
        """Add `by` to one counter of a voice, in the database, so that parallel requests all count."""
        if cls.objects.filter(clone_id=clone_id).update(**{counter: F(counter) + by}):
            return
        try:
            with transaction.atomic():
                cls.objects.create(clone_id=clone_id, **{counter: max(by, 0)})
        except IntegrityError:  # another request created the row meanwhile
            cls.objects.filter(clone_id=clone_id).update(**{counter: F(counter) + by})


class Mark(models.Model):
    """A like or a saved voice: at most one of each per person and voice (the unique constraint)."""

    class Kind(models.TextChoices):
        LIKE = "like", _("Like")
        SAVE = "save", _("Saved")

    COUNTER = {Kind.LIKE: "likes", Kind.SAVE: "saves"}

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="voice_marks", verbose_name=_("user")
    )
    clone = models.ForeignKey(Clone, on_delete=models.CASCADE, related_name="marks", verbose_name=_("clone"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("like or saved voice")
        verbose_name_plural = _("likes and saved voices")
        constraints = [models.UniqueConstraint(fields=["user", "clone", "kind"], name="one_mark_per_user")]

    def __str__(self):
        return f"{self.user_id} {self.kind} {self.clone_id}"

    @classmethod
    def toggle(cls, user, clone, kind):
        """Add the mark if the user has none, remove it if they have; return whether it is now on."""
        with transaction.atomic():
            removed, _ = cls.objects.filter(user=user, clone=clone, kind=kind).delete()
            if removed:
                VoiceStats.bump(clone.pk, cls.COUNTER[kind], -1)
                return False
            try:
                with transaction.atomic():
                    cls.objects.create(user=user, clone=clone, kind=kind)
            except IntegrityError:  # a double click: the first request already marked it
                return True
            VoiceStats.bump(clone.pk, cls.COUNTER[kind])
            return True

    @classmethod
    def annotate(cls, user, clones):
        """Set `liked` and `saved` on each of `clones` for `user`: one query for a whole page."""
        marked = set()
        if user.is_authenticated and clones:
            ids = [clone.pk for clone in clones]
            marked = set(cls.objects.filter(user=user, clone_id__in=ids).values_list("clone_id", "kind"))
        for clone in clones:
            clone.liked = (clone.pk, cls.Kind.LIKE) in marked
            clone.saved = (clone.pk, cls.Kind.SAVE) in marked
        return clones


def visitor_key(request):
    """Who is listening, for counting plays: the account, or a keyed hash of the address and browser.

    Keyed with SECRET_KEY, so the stored value says nothing about the visitor, and one person cannot
    add plays by clearing cookies (there are none to clear).
    """
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    seen = f"{request.META.get('REMOTE_ADDR', '')}|{request.META.get('HTTP_USER_AGENT', '')}"
    return hmac.new(settings.SECRET_KEY.encode(), seen.encode(), hashlib.sha256).hexdigest()[:40]


class Play(models.Model):
    """A visitor heard a voice on a day; the first play of the day counts, the others do not."""

    clone = models.ForeignKey(Clone, on_delete=models.CASCADE, related_name="+", verbose_name=_("clone"))
    visitor = models.CharField(_("visitor"), max_length=40)
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("play")
        verbose_name_plural = _("plays")
        constraints = [models.UniqueConstraint(fields=["clone", "visitor", "day"], name="one_play_per_visitor_day")]

    def __str__(self):
        return f"{self.clone_id} {self.day}"

    @classmethod
    def record(cls, request, clone):
        """Count this visitor's play of `clone` if it is their first today; return whether it counted."""
        try:
            with transaction.atomic():
                cls.objects.create(clone=clone, visitor=visitor_key(request), day=timezone.localdate())
                VoiceStats.bump(clone.pk, "plays")
        except IntegrityError:
            return False
        return True


class Showcase(models.Model):
    """A clip the owner picked from the voice's speech to show in the library (up to SHOWCASE_MAX)."""

    clone = models.ForeignKey(Clone, on_delete=models.CASCADE, related_name="showcase", verbose_name=_("clone"))
    utterance = models.OneToOneField(
        Utterance, on_delete=models.CASCADE, related_name="showcase", verbose_name=_("utterance")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position"]
        verbose_name = _("showcase clip")
        verbose_name_plural = _("showcase clips")

    def __str__(self):
        return f"{self.clone_id} #{self.position}"

    @classmethod
    def choices_for(cls, clone):
        """The clone's finished speech its owner may show: their own, with audio, newest first."""
        return Utterance.objects.filter(clone=clone, owner=clone.owner, status=Utterance.Status.READY).exclude(
            audio=""
        )[:30]

    @classmethod
    def replace(cls, clone, utterances):
        with transaction.atomic():
            cls.objects.filter(clone=clone).delete()
            cls.objects.bulk_create(
                cls(clone=clone, utterance=u, position=n) for n, u in enumerate(utterances[:SHOWCASE_MAX])
            )
