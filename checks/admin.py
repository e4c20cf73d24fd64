from django.contrib import admin

from checks.models import PronunciationRule


@admin.register(PronunciationRule)
class PronunciationRuleAdmin(admin.ModelAdmin):
    list_display = ["phrase", "replacement", "owner", "clone", "whole_word", "language", "created_at"]
    list_filter = ["language", "whole_word"]
    list_select_related = ["owner", "clone"]
    search_fields = ["phrase", "replacement", "owner__username", "owner__email"]
    autocomplete_fields = ["owner", "clone"]
