from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from bieb.core.admin_scoping import ReadOnlyAdminMixin
from bieb.kb.models import AccountEvent, HeldUsername, LinkedMembership, LoginAccount


class NationalOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Login accounts are national: only national operators (superusers) see them."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


class LinkedMembershipInline(admin.TabularInline):
    model = LinkedMembership
    extra = 0
    can_delete = False
    readonly_fields = (
        "library_code",
        "customer_number",
        "subscription_code",
        "digital_rights",
        "valid_through",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LoginAccount)
class LoginAccountAdmin(NationalOnlyAdmin):
    list_display = ["username", "email", "state", "origin", "activation_deadline", "created_at"]
    list_filter = ["state", "origin"]
    search_fields = ["username", "email"]
    exclude = ["password"]
    inlines = [LinkedMembershipInline]


@admin.register(AccountEvent)
class AccountEventAdmin(NationalOnlyAdmin):
    list_display = ["at", "event", "username", "actor", "ip"]
    list_filter = ["event"]
    search_fields = ["username"]


@admin.register(HeldUsername)
class HeldUsernameAdmin(NationalOnlyAdmin):
    list_display = ["username", "reason", "held_at", "held_until"]
    list_filter = ["reason"]
    search_fields = ["username"]


from bieb.kb.api import admin as api_admin  # noqa: E402, F401  (the API's log and feed)
