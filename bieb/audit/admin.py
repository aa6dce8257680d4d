from django.contrib import admin

from bieb.audit.models import AuditEvent
from bieb.core.admin_scoping import LibraryScopedAdmin, ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, LibraryScopedAdmin):
    list_display = ["at", "actor_name", "library", "action", "object_type", "object_id"]
    list_filter = ["action", "library"]
    search_fields = ["actor_name", "object_id"]
    date_hierarchy = "at"
