from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from bieb.core.admin_scoping import LibraryScopedAdmin, ReadOnlyAdminMixin
from bieb.payments.models import Payment


class ProblemFilter(admin.SimpleListFilter):
    """Payments staff must act on: paid but not used (refund), or an amount to check."""

    title = "probleem"
    parameter_name = "probleem"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("ja", "met probleem (terugbetalen of controleren)"), ("nee", "zonder probleem")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "ja":
            return queryset.exclude(problem="")
        if self.value() == "nee":
            return queryset.filter(problem="")
        return queryset


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, LibraryScopedAdmin):
    """Payments change only through their provider (and the desk)."""

    list_display = [
        "created_at",
        "library",
        "amount",
        "provider",
        "provider_id",
        "status",
        "customer",
        "problem",
    ]
    list_filter = [ProblemFilter, "library", "provider", "status"]
    search_fields = ["provider_id", "reference", "customer__number"]
    list_select_related = ["library", "customer"]
