from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import ApiToken, Limits, ProviderCall, Usage


class LimitsInline(admin.StackedInline):
    model = Limits
    can_delete = False


admin.site.unregister(User)


@admin.register(User)
class UserWithLimitsAdmin(UserAdmin):
    inlines = [LimitsInline]
    list_display = [*UserAdmin.list_display, "provider_cost_today"]
    readonly_fields = ["provider_cost_today"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, (_("Provider cost"), {"fields": ["provider_cost_today"]})]

    @admin.display(description=_("provider calls today"))
    def provider_cost_today(self, user):
        """Return what the user's work cost at the provider today, call by call (the ledger's totals)."""
        totals = ProviderCall.objects.filter(user=user).today().totals()
        if not totals:
            return "–"
        return format_html_join(
            ", ", "{} × {} ({} units)", ((t["calls"], route, t["units"]) for route, t in totals.items())
        )


@admin.register(Usage)
class UsageAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "amount", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "kind", "amount", "created_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # a token's secret is shown once, to its owner, on their account page

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        tokens = list(queryset.active())
        for token in tokens:
            token.revoke()
        self.message_user(
            request,
            ngettext("%(count)d token was revoked.", "%(count)d tokens were revoked.", len(tokens))
            % {"count": len(tokens)},
        )


@admin.register(ProviderCall)
class ProviderCallAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "route", "units", "subject"]
    list_filter = ["route", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "subject"]
    date_hierarchy = "created_at"
    readonly_fields = ["user", "route", "units", "subject", "created_at"]

    def has_add_permission(self, request):
        return False  # the ledger is written by the calls themselves
