from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from bieb.audit.models import AuditEvent
from bieb.core.admin_scoping import LibraryScopedAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(LibraryScopedAdmin):
    list_display = ["at", "actor_name", "library", "action", "object_type", "object_id"]
    list_filter = ["action", "library"]
    search_fields = ["actor_name", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
