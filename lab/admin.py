from django.contrib import admin

from lab.models import ListeningRound, SamplePart, SimilarityScore, Take, Voice


@admin.register(SamplePart)
class SamplePartAdmin(admin.ModelAdmin):
    list_display = ["clone", "position", "name"]
    raw_id_fields = ["clone"]
    readonly_fields = ["report", "stretches"]


class TakeInline(admin.TabularInline):
    model = Take
    raw_id_fields = ["clone"]
    extra = 0


@admin.register(Voice)
class VoiceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "created_at"]
    raw_id_fields = ["owner"]
    inlines = [TakeInline]


@admin.register(ListeningRound)
class ListeningRoundAdmin(admin.ModelAdmin):
    list_display = ["clone", "shared", "answer", "correct", "created_at", "answered_at"]
    list_filter = ["correct", "shared"]
    raw_id_fields = ["clone", "listener"]
    readonly_fields = ["original_is", "answer", "correct", "answered_at"]


@admin.register(SimilarityScore)
class SimilarityScoreAdmin(admin.ModelAdmin):
    list_display = ["clone", "score", "model", "seconds", "created_at"]
    raw_id_fields = ["clone"]
