from django.contrib import admin

from transcripts.models import Transcription


@admin.register(Transcription)
class TranscriptionAdmin(admin.ModelAdmin):
    list_display = ["uuid", "owner", "status", "attempts", "created_at", "finished_at"]
    list_filter = ["status", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["owner__username", "uuid"]
    readonly_fields = ["uuid", "owner", "sample", "status", "text", "error_code", "attempts", "lease_expires_at",
                       "created_at", "finished_at"]  # fmt: skip
