from django.contrib import admin

from studio.models import Export, Line, Project, Take


class LineInline(admin.TabularInline):
    model = Line
    extra = 0
    show_change_link = True
    fields = ["position", "speaker", "text", "locked", "revision", "chosen_take"]
    readonly_fields = ["revision", "chosen_take"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "source_format", "loudness_target", "updated_at"]
    list_filter = ["source_format", "updated_at"]
    list_select_related = ["owner"]
    search_fields = ["title", "owner__username", "owner__email", "uuid"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    inlines = [LineInline]


@admin.register(Take)
class TakeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "line", "status", "check_status", "error_rate", "voice_label", "duration",
                    "provider_calls", "check_calls", "attempts", "created_at"]  # fmt: skip
    list_filter = ["status", "check_status", "created_at"]
    list_select_related = ["line__project"]
    search_fields = ["text", "uuid", "line__project__title", "line__project__owner__username"]
    readonly_fields = [f.name for f in Take._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ["project", "format", "status", "duration", "decoded_takes", "created_at"]
    list_filter = ["status", "format"]
    list_select_related = ["project"]
    readonly_fields = [f.name for f in Export._meta.fields]

    def has_add_permission(self, request):
        return False
