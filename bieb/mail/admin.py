from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from bieb.mail.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only, and for national operators only: the outbox holds every library's mail."""

    list_display = ["created_at", "to", "subject", "kind", "reference", "status", "attempts"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "reference", "subject"]
    date_hierarchy = "created_at"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
