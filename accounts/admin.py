from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from accounts.models import Limits, Usage


class LimitsInline(admin.StackedInline):
    model = Limits
    can_delete = False


admin.site.unregister(User)


@admin.register(User)
class UserWithLimitsAdmin(UserAdmin):
    inlines = [LimitsInline]


@admin.register(Usage)
class UsageAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "amount", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "kind", "amount", "created_at"]
