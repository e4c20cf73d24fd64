from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from clones.models import Clone, Tag


@admin.register(Clone)
class CloneAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "status", "visibility", "voice_id", "error_code", "attempts", "created_at"]
    list_filter = ["status", "visibility", "language", "error_kind", "provider_model", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username", "owner__email", "voice_name", "voice_id", "uuid", "request_id"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["owner"]
    filter_horizontal = ["tags"]
    actions = ["retry_failed", "refetch_preview", "delete_at_provider", "make_private", "make_unlisted", "make_public"]
    readonly_fields = [
        "uuid", "voice_name", "voice_id", "sample_file_id", "preview_file_id", "request_id", "sample_format",
        "sample_duration", "status", "error_kind", "error_code", "error_message", "attempts", "clone_requested_at",
        "lease_expires_at", "deletion_requested_at", "consent_by", "consent_at", "created_at", "updated_at",
        "started_at", "finished_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["uuid", "name", "owner", "visibility", "language", "tags", "status", "attempts"]}),
        (_("Sample"), {"fields": ["sample", "sample_format", "sample_duration", "transcript", "preview_text"]}),
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
                    "request_id",
                    "clone_requested_at",
                ]
            },
        ),  # fmt: skip
        (_("Errors"), {"fields": ["error_kind", "error_code", "error_message"]}),
        (_("Consent"), {"fields": ["consent_by", "consent_at"]}),
        (
            _("Timestamps"),
            {
                "fields": [
                    "created_at",
                    "updated_at",
                    "started_at",
                    "finished_at",
                    "lease_expires_at",
                    "deletion_requested_at",
                ]
            },
        ),  # fmt: skip
    ]

    def _done(self, request, message, count):
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Retry failed clones"))
    def retry_failed(self, request, queryset):
        clones = list(queryset.filter(status=Clone.Status.FAILED, deletion_requested_at=None))
        for clone in clones:
            clone.retry()
        self._done(
            request,
            ngettext("%(count)d clone queued again.", "%(count)d clones queued again.", len(clones)),
            len(clones),
        )

    @admin.action(description=_("Fetch the preview again"))
    def refetch_preview(self, request, queryset):
        clones = list(queryset.filter(status=Clone.Status.READY, deletion_requested_at=None))
        for clone in clones:
            clone.refetch_preview()
        self._done(
            request, ngettext("%(count)d preview queued.", "%(count)d previews queued.", len(clones)), len(clones)
        )

    @admin.action(description=_("Delete at the provider, then here"))
    def delete_at_provider(self, request, queryset):
        clones = list(queryset.filter(deletion_requested_at=None))
        for clone in clones:
            clone.request_deletion()
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
