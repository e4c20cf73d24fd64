from django.contrib import admin

from checks.models import PronunciationRule, UtteranceAttempt


@admin.register(PronunciationRule)
class PronunciationRuleAdmin(admin.ModelAdmin):
    list_display = ["phrase", "replacement", "owner", "clone", "whole_word", "language", "created_at"]
    list_filter = ["language", "whole_word"]
    list_select_related = ["owner", "clone"]
    search_fields = ["phrase", "replacement", "owner__username", "owner__email"]
    autocomplete_fields = ["owner", "clone"]


@admin.register(UtteranceAttempt)
class UtteranceAttemptAdmin(admin.ModelAdmin):
    """Every attempt at one-off speech that was heard back: what each cost and how far off it was."""

    list_display = ["utterance", "number", "check_status", "error_rate", "kept", "provider_calls", "check_calls",
                    "created_at"]  # fmt: skip
    list_filter = ["check_status", "kept"]
    list_select_related = ["utterance"]
    raw_id_fields = ["utterance"]
    readonly_fields = [f.name for f in UtteranceAttempt._meta.fields]

    def has_add_permission(self, request):
        return False
