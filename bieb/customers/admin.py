"""Customers are registered and changed at the counter; the admin only shows them."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from bieb.core.admin_scoping import LibraryScopedAdmin, ReadOnlyAdminMixin
from bieb.customers.models import Customer, LedgerLine, Membership


class ReadOnlyAdmin(ReadOnlyAdminMixin, LibraryScopedAdmin):
    pass


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    can_delete = False
    fields = ("subscription_type", "tariff", "branch", "start_date", "valid_through", "status")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["number", "display_name", "birth_date", "postcode", "library"]
    list_filter = ["library"]
    search_fields = ["number", "surname", "email", "postcode"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["customer", "subscription_type", "valid_through", "status", "library"]
    list_filter = ["library", "status"]


@admin.register(LedgerLine)
class LedgerLineAdmin(ReadOnlyAdmin):
    list_display = ["booked_at", "customer", "kind", "amount", "method", "library"]
    list_filter = ["library", "kind"]
