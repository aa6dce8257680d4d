from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from bieb.core.admin_scoping import LibraryScopedAdmin
from bieb.staff.models import User


@admin.register(User)
class UserAdmin(LibraryScopedAdmin, DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "library", "branch", "is_active"]
    list_filter = ["library", "is_active", "is_staff"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Bibliotheek", {"fields": ("library", "branch")}),
    )
    add_fieldsets = (
        *(DjangoUserAdmin.add_fieldsets or ()),
        ("Bibliotheek", {"fields": ("library", "branch")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A library's own admins manage their colleagues, never rights beyond their own.
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ["is_superuser", "is_staff", "groups", "user_permissions", "library", "last_login"]
