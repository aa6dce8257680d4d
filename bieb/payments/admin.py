from django.contrib import admin

from bieb.core.admin_scoping import LibraryScopedAdmin, ReadOnlyAdminMixin
from bieb.payments.models import Payment


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
    list_filter = ["library", "provider", "status"]
    search_fields = ["provider_id", "reference", "customer__number"]
    list_select_related = ["library", "customer"]
