from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from bieb.core.admin_scoping import ReadOnlyAdminMixin
from bieb.core.models import JobLease, JobRun


class OperatorsOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The periodic jobs are the operators' (superusers'), not a library's."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(JobLease)
class JobLeaseAdmin(OperatorsOnlyAdmin):
    list_display = ["name", "due_at", "holder", "leased_until"]


@admin.register(JobRun)
class JobRunAdmin(OperatorsOnlyAdmin):
    list_display = ["name", "due_at", "holder", "started_at", "finished_at", "ok"]
    list_filter = ["name", "ok"]
    date_hierarchy = "started_at"
