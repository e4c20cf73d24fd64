import contextlib
import contextvars
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection, models
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.signals import quota_refused


class QuotaExceeded(Exception):
    """The message says what ran out and when it comes back; it is shown to the user.

    `code` tells a rate limit ("rate_limited") from a used-up daily quota ("quota_exceeded");
    `retry_after` is the number of seconds until the same request would pass, if it ever will.
    """

    def __init__(self, message, *, code="quota_exceeded", retry_after=None):
        super().__init__(message)
        self.code, self.retry_after = code, retry_after


class Limits(models.Model):
    """Per-user overrides of the site-wide quotas, set by staff. Empty means the site default."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="limits", verbose_name=_("user")
    )
    clones_per_day = models.PositiveIntegerField(_("clones per day"), null=True, blank=True)
    speech_chars_per_day = models.PositiveIntegerField(_("speech characters per day"), null=True, blank=True)

    class Meta:
        verbose_name = _("limits")
        verbose_name_plural = _("limits")

    def __str__(self):
        return str(self.user)


class Preferences(models.Model):
    """What a user chose for their own account. No row: every default."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences", verbose_name=_("user")
    )
    # One-off speech heard back once spoken, and spoken again while it differs (checks/); each request
    # may say otherwise. The studio has its own switch per project.
    check_speech = models.BooleanField(
        _("check my speech"),
        default=True,
        help_text=_(
            "Each speech is heard back by speech recognition and compared with its text; speech that differs "
            "is made again a few times and the closest kept. Checks and retries count against your limits."
        ),
    )

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self):
        return str(self.user)

    @classmethod
    def of(cls, user):
        """The user's preferences, unsaved defaults for a user who never chose."""
        return cls.objects.filter(user=user).first() or cls(user=user)


class Usage(models.Model):
    """A ledger of what each user spent at the provider; deleting a clone does not refund it."""

    class Kind(models.TextChoices):
        CLONE = "clone", _("Clone")
        SPEECH_CHARS = "speech_chars", _("Speech characters")
        TRANSCRIPTION = "transcription", _("Transcription")
        CHECK_SECONDS = "check_seconds", _("Seconds of speech checked")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    amount = models.PositiveIntegerField(_("amount"))
    # False for the provider calls a task charges one by one for work submitted once (the studio's
    # takes): they count toward the daily quota, not as submissions toward the per-minute limit.
    submission = models.BooleanField(_("a submission"), default=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("usage")
        verbose_name_plural = _("usage")
        indexes = [models.Index(fields=["user", "kind", "created_at"])]

    def __str__(self):
        return f"{self.user} {self.kind} {self.amount}"


def _daily_limit(user, kind, limits=...):
    if kind == Usage.Kind.TRANSCRIPTION:
        return settings.QUOTA_TRANSCRIPTIONS_PER_DAY
    if kind == Usage.Kind.CHECK_SECONDS:
        return settings.QUOTA_CHECK_SECONDS_PER_DAY
    if limits is ...:  # not read by the caller yet
        limits = Limits.objects.filter(user=user).first()
    if kind == Usage.Kind.CLONE:
        override = limits and limits.clones_per_day
        return override if override is not None else settings.QUOTA_CLONES_PER_DAY
    override = limits and limits.speech_chars_per_day
    return override if override is not None else settings.QUOTA_SPEECH_CHARS_PER_DAY


def charge(user, kind, amount, *, per_minute=True):
    """Record `amount` of `kind` for `user`, or raise QuotaExceeded. Call inside transaction.atomic().

    The user's row is locked first, so parallel requests of one user are counted one after another.
    `per_minute=False` is for a task charging each provider call of work that was submitted once, such
    as the studio's "generate all": the daily quota applies, the submissions-a-minute limit does not, and
    the charge is not counted as a submission.
    """
    if EmailConfirmation.is_pending_for(user):
        # An account whose address is unproven spends nothing: otherwise a new sign-up is a new quota.
        raise QuotaExceeded(
            _("Please confirm your email address first: open the link we sent you when you signed up."),
            code="email_unconfirmed",
        )
    # Read before the lock, as no charge changes it: the lock puts every charge of the user in line (a
    # studio "generate all" charges a call of each line at once), so what it covers must be short.
    limit = _daily_limit(user, kind)
    # "No key": charges still queue one after another on this lock, but rows that only refer to the user
    # (a streamed part's ledger row, written while the user's next requests charge) need not wait for it.
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    now = timezone.now()
    if not per_minute and _charged_within(user, kind, amount, limit, now):
        return
    spent = Usage.objects.filter(user=user, kind=kind)
    minute_ago, day_ago = now - timedelta(minutes=1), now - timedelta(days=1)
    recent = spent.filter(created_at__gte=minute_ago, submission=True).order_by("created_at")
    today = spent.filter(created_at__gte=day_ago)
    # One pass over the day's ledger for both limits: every submission runs this under the lock.
    totals = today.aggregate(
        count=Count("pk", filter=Q(created_at__gte=minute_ago, submission=True)), used=Sum("amount")
    )
    count, allowed = totals["count"], settings.RATE_LIMIT_PER_MINUTE
    if per_minute and count >= allowed:
        # The request fits again once enough of the last minute's submissions have aged out.
        retry_after = (
            _seconds_until(recent[count - allowed].created_at + timedelta(minutes=1), now) if allowed else None
        )
        quota_refused.send(sender=Usage, code="rate_limited")
        raise QuotaExceeded(
            _("Too many requests at once: please wait %(seconds)d seconds and try again.")
            % {"seconds": retry_after or 60},
            code="rate_limited",
            retry_after=retry_after,
        )
    used = totals["used"] or 0
    if used + amount > limit:
        retry_after = _quota_frees_at(today, used, amount, limit, now)
        if kind == Usage.Kind.CLONE:
            message = _("You have used your %(limit)d clones for the last 24 hours.")
        elif kind == Usage.Kind.TRANSCRIPTION:
            message = _(
                "You have used your %(limit)d transcriptions for the last 24 hours. Please type the transcript."
            )
        elif kind == Usage.Kind.CHECK_SECONDS:
            message = _(
                "Checking this take would pass your limit of %(limit)d seconds of checked speech in 24 hours "
                "(%(used)d used). It is kept unchecked."
            )
        else:
            message = _(
                "This would pass your limit of %(limit)d characters of speech in 24 hours "
                "(%(used)d used). Please try a shorter text."
            )
        message = message % {"limit": limit, "used": used}
        if retry_after is not None:
            # Said as a time of day in the site's zone, as the usage boxes show it.
            message += " " + _("It will be allowed again at %(time)s.") % {"time": _when(now, retry_after)}
        quota_refused.send(sender=Usage, code="quota_exceeded")
        raise QuotaExceeded(message, retry_after=retry_after)
    Usage.objects.create(user=user, kind=kind, amount=amount, created_at=now, submission=per_minute)


def _charged_within(user, kind, amount, limit, now):
    """Record the charge if the last 24 hours' total stays within `limit`, in one statement; False if it
    would not (the caller then reads the totals again, to say why).

    Every round trip under the user's lock is one the user's other charges wait for: a studio "generate
    all" charges its lines' calls one after another on it, and reading the day's total and then
    inserting, each a wait for the worker's interpreter among twenty busy threads, made the first round
    of calls start over 0.4 s instead of at once (bench/README.md, studio). The ORM has no conditional
    insert, hence the SQL; the total is read after the lock was taken, so no charge is missed.
    """
    table, ops = Usage._meta.db_table, connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, kind, amount, submission, created_at) SELECT %s, %s, %s, %s, %s "
            f"WHERE (SELECT COALESCE(SUM(amount), 0) FROM {table} WHERE user_id = %s AND kind = %s "
            f"AND created_at >= %s) + %s <= %s",
            [user.pk, kind, amount, False, ops.adapt_datetimefield_value(now),
             user.pk, kind, ops.adapt_datetimefield_value(now - timedelta(days=1)), amount, limit],
        )  # fmt: skip
        return cursor.rowcount == 1


def _when(now, seconds):
    """A moment `seconds` from now, as the page shows times ("14:05", or a date and time past a day)."""
    moment = timezone.localtime(now + timedelta(seconds=seconds))
    return date_format(moment, "SHORT_DATETIME_FORMAT" if seconds > 20 * 3600 else "TIME_FORMAT")


@dataclass
class Allowance:
    """One kind of usage as the pages show it: the last 24 hours against the limit, and this month."""

    used: int
    limit: int
    month: int
    frees_at: datetime | None  # when some of the used-up limit comes back, if all of it is used

    @property
    def left(self):
        return max(0, self.limit - self.used)


def usage_summary(user, now=None):
    """What `user` has spent of each Usage.Kind, as {kind: Allowance} (the pages show clones and speech)."""
    now = now or timezone.now()
    day_ago = now - timedelta(days=1)
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    totals = dict.fromkeys(Usage.Kind.values, (0, 0))
    rows = (
        Usage.objects.filter(user=user, created_at__gte=min(day_ago, month_start))
        .values("kind")
        .annotate(
            day=Sum("amount", filter=Q(created_at__gte=day_ago)),
            month=Sum("amount", filter=Q(created_at__gte=month_start)),
        )
    )
    for row in rows:
        totals[row["kind"]] = (row["day"] or 0, row["month"] or 0)
    limits = Limits.objects.filter(user=user).first()
    summary = {}
    for kind, (used, month) in totals.items():
        limit = _daily_limit(user, kind, limits)
        frees_at = None
        if used >= limit:
            seconds = _quota_frees_at(
                Usage.objects.filter(user=user, kind=kind, created_at__gte=day_ago), used, 1, limit, now
            )
            frees_at = now + timedelta(seconds=seconds) if seconds is not None else None
        summary[kind] = Allowance(used=used, limit=limit, month=month, frees_at=frees_at)
    return summary


def _seconds_until(moment, now):
    return max(1, math.ceil((moment - now).total_seconds()))


def _quota_frees_at(today, used, amount, limit, now):
    """Seconds until enough of the last 24 hours' usage has aged out for `amount` to fit; None if it never will."""
    if amount > limit:
        return None
    for usage in today.order_by("created_at"):
        used -= usage.amount
        if used + amount <= limit:
            return _seconds_until(usage.created_at + timedelta(days=1), now)
    return None


def _token_digest(secret):
    # Tokens are 256 random bits, so a plain hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A personal token for the JSON API. Only a hash of the secret is kept; the owner sees it once."""

    PREFIX = "vc_"
    VISIBLE_CHARS = 8  # after the prefix: enough to tell one's tokens apart, far too few to guess the rest
    MAX_ACTIVE_PER_USER = 20
    # last_used_at is written at most this often, so busy clients don't write on every request.
    TOUCH_INTERVAL = timedelta(minutes=1)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user, name):
        """A new token for `user`: the row, and the secret, which is not stored anywhere."""
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, prefix=secret[: len(cls.PREFIX) + cls.VISIBLE_CHARS], digest=_token_digest(secret)
        )
        return token, secret

    @classmethod
    def user_for(cls, secret):
        """The active user this secret belongs to, or None for an unknown or revoked token."""
        token = (
            cls.objects.active()
            .select_related("user")
            .filter(digest=_token_digest(secret), user__is_active=True)
            .first()
        )
        if token is None:
            return None
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at < now - cls.TOUCH_INTERVAL:
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user

    @property
    def is_active(self):
        return self.revoked_at is None

    def revoke(self):
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class EmailConfirmation(models.Model):
    """A sign-up's address waiting to be proven. Accounts without one (older ones, staff-made) count as confirmed."""

    SALT = "accounts.email-confirmation"
    MAX_AGE = timedelta(days=3)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_confirmation", verbose_name=_("user")
    )
    email = models.EmailField(_("email"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("email confirmation")
        verbose_name_plural = _("email confirmations")

    def __str__(self):
        return f"{self.user} <{self.email}>"

    @classmethod
    def is_pending_for(cls, user):
        return cls.objects.filter(user=user, confirmed_at=None).exists()

    @classmethod
    def start(cls, user):
        """A pending confirmation of the user's address, and the token that proves it."""
        confirmation = cls.objects.create(user=user, email=user.email)
        return confirmation, confirmation.token()

    def token(self):
        return signing.dumps({"id": self.pk, "email": self.email}, salt=self.SALT, compress=True)

    @classmethod
    def from_token(cls, token):
        """The confirmation a token belongs to, or None when it is forged, expired or outdated."""
        try:
            data = signing.loads(token, salt=cls.SALT, max_age=cls.MAX_AGE)
        except signing.BadSignature:
            return None
        return cls.objects.select_related("user").filter(pk=data.get("id"), email=data.get("email")).first()

    @property
    def address_taken(self):
        """Whether another account has already proven this address: one confirmed account per address."""
        confirmed_elsewhere = EmailConfirmation.objects.filter(email__iexact=self.email, confirmed_at__isnull=False)
        unproven = EmailConfirmation.objects.filter(confirmed_at=None).values("user")
        # Accounts from before confirmations existed (or made by staff) hold their address too.
        older_accounts = get_user_model().objects.filter(email__iexact=self.email).exclude(pk__in=unproven)
        return confirmed_elsewhere.exclude(pk=self.pk).exists() or older_accounts.exclude(pk=self.user_id).exists()

    def confirm(self):
        if self.confirmed_at is None:
            self.confirmed_at = timezone.now()
            self.save(update_fields=["confirmed_at"])


class AccountEvent(models.Model):
    """Sign-ups and password-reset requests, counted per network address and per email to hold off abuse."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", _("Sign-up")
        PASSWORD_RESET = "password_reset", _("Password reset")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    email = models.EmailField(_("email"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("account event")
        verbose_name_plural = _("account events")
        indexes = [models.Index(fields=["kind", "ip_address", "created_at"])]

    def __str__(self):
        return f"{self.kind} {self.ip_address}"

    @classmethod
    def count_last_hour(cls, kind, **match):
        return cls.objects.filter(kind=kind, created_at__gte=timezone.now() - timedelta(hours=1), **match).count()

    @classmethod
    def record(cls, kind, ip_address, email=""):
        # Only the last hour is ever counted; older rows go as new ones come.
        cls.objects.filter(created_at__lt=timezone.now() - timedelta(days=1)).delete()
        return cls.objects.create(kind=kind, ip_address=ip_address, email=email.lower())


class ProviderCallQuerySet(models.QuerySet):
    def since(self, moment):
        return self.filter(created_at__gte=moment)

    def today(self):
        """The calls of the current day in the site's time zone."""
        return self.since(timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0))

    def totals(self):
        """{route: {"calls": n, "units": n}}: what these calls cost, route by route."""
        rows = self.values("route").annotate(calls=Count("pk"), units=Sum("units")).order_by("route")
        return {row["route"]: {"calls": row["calls"], "units": row["units"]} for row in rows}


class ProviderCall(models.Model):
    """Every paid provider call, recorded before it goes out, against the user it is made for.

    `Usage` is what a user may still spend (checked when work is submitted); this is what the
    work then cost, call by call: retries, regenerations and re-sent parts included.
    """

    # Empty for the site's own calls (an operator's `check_provider --spend`).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="provider_calls",
        verbose_name=_("user"),
        null=True,
        blank=True,
    )
    route = models.CharField(_("call"), max_length=40)
    units = models.PositiveIntegerField(_("units"), default=1, help_text=_("Characters for speech, else 1."))
    subject = models.CharField(_("for"), max_length=64, blank=True, help_text=_("For example clone:12."))
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    objects = ProviderCallQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("provider call")
        verbose_name_plural = _("provider calls")
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self):
        return f"{self.user} {self.route} {self.units}"


def meter(user_id, route, units=1, subject=""):
    """Record one paid call for `user_id` before it is made (see `billing`)."""
    return ProviderCall.objects.create(user_id=user_id, route=route, units=units, subject=subject)


_billed_to = contextvars.ContextVar("provider_calls_billed_to", default=None)


@contextlib.contextmanager
def billing(user_id, subject):
    """Within this block, every paid call the BigModel client makes is metered to `user_id` (None: the site).

    The client gets `meter_current_call` as its hook (clones.bigmodel knows nothing of users); the
    owner travels in a context variable, copied into the threads that speak parts in parallel.
    """
    token = _billed_to.set((user_id, subject))
    try:
        yield
    finally:
        _billed_to.reset(token)


class UnbilledCall(RuntimeError):
    """A paid call was about to go out with nobody to bill: a bug, and refused rather than paid for."""


def meter_current_call(route, units):
    owner = _billed_to.get()
    if owner is None:
        raise UnbilledCall(f"paid provider call {route} outside of billing()")
    meter(owner[0], route, units, owner[1])
