from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import billing
from clones import bigmodel, tasks
from clones.models import Clone, Tag, Utterance
from clones.pipeline import provider_client
from clones.reconcile import apply, compare, import_voice


class UtteranceInline(admin.TabularInline):
    model = Utterance
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["text", "owner", "status", "duration", "parts", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Clone)
class CloneAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "status",
        "visibility",
        "voice_id",
        "preview_route",
        "error_code",
        "attempts",
        "created_at",
    ]
    list_filter = ["status", "visibility", "language", "error_kind", "preview_route", "provider_model", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username", "owner__email", "voice_name", "voice_id", "uuid", "request_id"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["owner"]
    inlines = [UtteranceInline]
    change_list_template = "admin/clones/clone/change_list.html"
    filter_horizontal = ["tags"]
    actions = ["retry_failed", "refetch_preview", "delete_at_provider", "make_private", "make_unlisted", "make_public"]
    readonly_fields = [
        "uuid", "voice_name", "voice_id", "sample_file_id", "preview_file_id", "request_id", "sample_format",
        "sample_duration", "status", "error_kind", "error_code", "error_message", "attempts", "clone_requested_at",
        "lease_expires_at", "deletion_requested_at", "gone_at", "consent_by", "consent_at", "created_at", "updated_at",
        "started_at", "finished_at", "first_ready_at", "original", "quality_report", "sample", "preview_audio",
        "preview_route", "failure_message",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["uuid", "name", "owner", "visibility", "language", "tags", "status", "attempts"]}),
        (
            _("Sample"),
            {
                "fields": [
                    "sample",
                    "sample_format",
                    "sample_duration",
                    "original",
                    "quality_report",
                    "transcript",
                    "preview_text",
                ]
            },
        ),
        (
            _("Provider"),
            {
                "fields": [
                    "provider_model",
                    "voice_name",
                    "voice_id",
                    "sample_file_id",
                    "preview_file_id",
                    "preview_audio",
                    "preview_route",
                    "request_id",
                    "clone_requested_at",
                ]
            },
        ),  # fmt: skip
        (_("Errors"), {"fields": ["error_kind", "error_code", "error_message", "failure_message"]}),
        (_("Consent"), {"fields": ["consent_by", "consent_at"]}),
        (
            _("Timestamps"),
            {
                "fields": [
                    "created_at",
                    "updated_at",
                    "started_at",
                    "finished_at",
                    "first_ready_at",
                    "lease_expires_at",
                    "deletion_requested_at",
                ]
            },
        ),  # fmt: skip
    ]

    @admin.display(description=_("sample quality"))
    def quality_report(self, clone):
        """The quality report as the owner sees it, not as raw JSON."""
        if not clone.quality:
            return "—"
        return render_to_string("clones/_quality.html", {"report": clone.quality, "advice": clone.sample_advice})

    def delete_model(self, request, obj):
        # Django's own delete would remove the row only: the provider voice would live on (and keep
        # costing the account), and the sample, original and preview files would stay on disk.
        if obj.deletion_requested_at is None:
            tasks.request_deletion(obj)

    def delete_queryset(self, request, queryset):
        """ "Delete selected voice clones": each goes the owner's way, the provider voice first, then files."""
        for clone in queryset.filter(deletion_requested_at=None):
            tasks.request_deletion(clone)

    def get_urls(self):
        reconcile_view = self.admin_site.admin_view(self.reconcile_view)
        return [path("reconcile/", reconcile_view, name="clones_clone_reconcile"), *super().get_urls()]

    def reconcile_view(self, request):
        """Compare with the provider. A GET only shows what differs; each change is a POST of its own button."""
        if not request.user.has_perm("clones.change_clone"):
            return redirect("admin:index")
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        with provider_client() as client:
            try:
                report = compare(client)
                if request.method == "POST":
                    self._reconcile(request, client, report)
                    return redirect("admin:clones_clone_reconcile")
            except bigmodel.BigModelError as exc:
                self.message_user(
                    request, _("The provider could not be reached: %(error)s") % {"error": exc}, messages.ERROR
                )
                return redirect("admin:clones_clone_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reconcile with the provider"),
            "report": report,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/clones/reconcile.html", context)

    def _reconcile(self, request, client, report):
        if "mark" in request.POST:
            apply(report)
            self.message_user(request, _("Done."), messages.SUCCESS)
            return
        chosen = set(request.POST.getlist("voice"))
        for voice in [v for v in report.unknown if v.voice in chosen]:
            if "import" in request.POST:
                with billing(request.user.pk, f"import:{voice.voice}"):  # its preview is downloaded
                    import_voice(client, voice, request.user)
            else:
                client.delete_voice(voice.voice)
        if chosen:
            self.message_user(request, _("Done."), messages.SUCCESS)

    def _done(self, request, message, count):
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Retry failed clones"))
    def retry_failed(self, request, queryset):
        clones = list(queryset.filter(status=Clone.Status.FAILED, deletion_requested_at=None))
        for clone in clones:
            tasks.retry_clone(clone)
        self._done(
            request,
            ngettext("%(count)d clone queued again.", "%(count)d clones queued again.", len(clones)),
            len(clones),
        )

    @admin.action(description=_("Fetch the preview again"))
    def refetch_preview(self, request, queryset):
        clones = list(queryset.filter(status=Clone.Status.READY, deletion_requested_at=None))
        for clone in clones:
            tasks.refetch_preview(clone)
        self._done(
            request, ngettext("%(count)d preview queued.", "%(count)d previews queued.", len(clones)), len(clones)
        )

    @admin.action(description=_("Delete at the provider, then here"))
    def delete_at_provider(self, request, queryset):
        clones = list(queryset.filter(deletion_requested_at=None))
        for clone in clones:
            tasks.request_deletion(clone)
        self._done(
            request,
            ngettext("%(count)d clone queued for deletion.", "%(count)d clones queued for deletion.", len(clones)),
            len(clones),
        )

    def _set_visibility(self, request, queryset, visibility):
        count = queryset.update(visibility=visibility)
        self._done(request, ngettext("%(count)d clone updated.", "%(count)d clones updated.", count), count)

    @admin.action(description=_("Make private"))
    def make_private(self, request, queryset):
        self._set_visibility(request, queryset, Clone.Visibility.PRIVATE)

    @admin.action(description=_("Make unlisted"))
    def make_unlisted(self, request, queryset):
        self._set_visibility(request, queryset, Clone.Visibility.UNLISTED)

    @admin.action(description=_("Make public"))
    def make_public(self, request, queryset):
        self._set_visibility(request, queryset, Clone.Visibility.PUBLIC)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Utterance)
class UtteranceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "clone", "system_voice", "status", "duration", "parts", "created_at"]
    list_filter = ["status", "system_voice", "created_at"]
    list_select_related = ["owner", "clone"]
    search_fields = ["text", "owner__username", "clone__name", "uuid"]
    readonly_fields = ["uuid", "owner", "clone", "system_voice", "audio", "duration", "parts", "status",
                       "error_code", "error_message", "attempts", "created_at", "finished_at"]  # fmt: skip
