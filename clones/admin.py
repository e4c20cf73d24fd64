from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from clones.models import Clone


@admin.register(Clone)
class CloneAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "voice_name", "voice_id", "attempts", "error_code", "created_at"]
    list_filter = ["status", "error_kind", "provider_model", "created_at"]
    search_fields = ["name", "voice_name", "voice_id", "uuid", "request_id", "sample_file_id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "uuid",
        "voice_name",
        "voice_id",
        "sample_file_id",
        "preview_file_id",
        "request_id",
        "sample_format",
        "sample_duration",
        "status",
        "error_kind",
        "error_code",
        "error_message",
        "attempts",
        "clone_requested_at",
        "lease_expires_at",
        "created_at",
        "updated_at",
        "started_at",
        "finished_at",
    ]
    fieldsets = [
        (None, {"fields": ["uuid", "name", "provider_model", "status", "attempts"]}),
        (_("Sample"), {"fields": ["sample", "sample_format", "sample_duration", "transcript", "preview_text"]}),
        (
            "Provider",
            {
                "fields": [
                    "voice_name",
                    "voice_id",
                    "sample_file_id",
                    "preview_file_id",
                    "preview_audio",
                    "request_id",
                    "clone_requested_at",
                ]
            },
        ),
        (_("Errors"), {"fields": ["error_kind", "error_code", "error_message"]}),
        (_("Timestamps"), {"fields": ["created_at", "updated_at", "started_at", "finished_at", "lease_expires_at"]}),
    ]
