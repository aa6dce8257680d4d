from django.contrib import admin

from bieb.core.admin_scoping import LibraryScopedAdmin, ReadOnlyAdminMixin
from bieb.signup.models import Signup


@admin.register(Signup)
class SignupAdmin(ReadOnlyAdminMixin, LibraryScopedAdmin):
    """Sign-ups waiting for their payment (and, for a month, the completed ones)."""

    list_display = ["created_at", "library", "login_account_id", "amount", "status", "customer"]
    list_filter = ["library", "status"]
    search_fields = ["customer__number"]
    list_select_related = ["library", "customer"]
    exclude = ["id_token"]  # the member's consent, for the KB only
