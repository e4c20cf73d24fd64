from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from webhooks import tasks
from webhooks.models import Delivery, Endpoint


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["event", "status", "attempts", "response_status", "error", "created_at", "last_attempt_at"]
    readonly_fields = fields
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "owner", "is_active", "created_at"]
    list_filter = ["is_active", "created_at"]
    search_fields = ["url", "owner__username", "description"]
    autocomplete_fields = ["owner"]
    inlines = [DeliveryInline]
    actions = ["send_test_event"]

    @admin.action(description=_("Send a test event"))
    def send_test_event(self, request, queryset):
        for endpoint in queryset:
            tasks.send_test_event(endpoint)
        count = len(queryset)
        self.message_user(
            request, ngettext("A test event was sent.", "%(count)d test events were sent.", count) % {"count": count},
            messages.SUCCESS,
        )  # fmt: skip


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "response_status", "created_at", "last_attempt_at"]
    list_filter = ["status", "event", "created_at"]
    search_fields = ["endpoint__url", "endpoint__owner__username", "uuid"]
    list_select_related = ["endpoint"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False
