from django.contrib import admin

from library.models import Mark, Showcase, VoiceStats


@admin.register(VoiceStats)
class VoiceStatsAdmin(admin.ModelAdmin):
    list_display = ["clone", "likes", "saves", "plays", "uses"]
    list_select_related = ["clone"]
    readonly_fields = ["clone", "likes", "saves", "plays", "uses"]
    search_fields = ["clone__name"]


@admin.register(Mark)
class MarkAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "clone", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["user", "clone"]
    raw_id_fields = ["user", "clone"]


@admin.register(Showcase)
class ShowcaseAdmin(admin.ModelAdmin):
    list_display = ["clone", "utterance", "position"]
    raw_id_fields = ["clone", "utterance"]
