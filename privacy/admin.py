from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import UserWithLimitsAdmin
from privacy.models import AccountClosure, AnonymousUsage, DataExport
from privacy.tasks import close_account, start_export

admin.site.unregister(User)


@admin.register(User)
class UserAdmin(UserWithLimitsAdmin):
    """The accounts app's user admin, with the people's-data actions."""

    actions = [*(UserWithLimitsAdmin.actions or []), "export_data", "close_accounts"]

    @admin.action(description=_("Prepare a data export"))
    def export_data(self, request, queryset):
        for user in queryset:
            start_export(user)
        self.message_user(request, _("The exports are being prepared; see Data exports."), messages.SUCCESS)

    @admin.action(description=_("Close accounts: delete their provider voices, then all their data"))
    def close_accounts(self, request, queryset):
        closed = 0
        for user in queryset.exclude(pk=request.user.pk):
            close_account(user, by_staff=True)
            closed += 1
        self.message_user(
            request,
            ngettext("%(count)d account is being closed.", "%(count)d accounts are being closed.", closed)
            % {"count": closed},
            messages.SUCCESS,
        )


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "size", "created_at", "finished_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["user__username"]
    readonly_fields = ["uuid", "user", "status", "archive", "size", "created_at", "finished_at"]

    def has_add_permission(self, request):
        return False


@admin.register(AccountClosure)
class AccountClosureAdmin(admin.ModelAdmin):
    list_display = ["pk", "user", "by_staff", "requested_at", "finished_at", "clones_deleted"]
    list_filter = ["by_staff", ("finished_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["user", "by_staff", "requested_at", "checked_at", "finished_at", "clones_deleted"]

    def has_add_permission(self, request):
        return False


@admin.register(AnonymousUsage)
class AnonymousUsageAdmin(admin.ModelAdmin):
    list_display = ["day", "kind", "amount"]
    list_filter = ["kind"]
    readonly_fields = ["day", "kind", "amount"]

    def has_add_permission(self, request):
        return False
