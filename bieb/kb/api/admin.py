"""The KB API's log and feed in the admin, read-only, for national operators."""

from django.contrib import admin

from bieb.kb.admin import NationalOnlyAdmin
from bieb.kb.api.models import ApiCall, LibraryEvent


@admin.register(ApiCall)
class ApiCallAdmin(NationalOnlyAdmin):
    list_display = ["at", "client_id", "library_code", "actor", "method", "path", "status"]
    list_filter = ["client_id", "library_code", "status"]
    search_fields = ["path", "actor"]


@admin.register(LibraryEvent)
class LibraryEventAdmin(NationalOnlyAdmin):
    list_display = ["position", "at", "library_code", "kind", "customer_number", "account_id"]
    list_filter = ["library_code", "kind"]
    search_fields = ["customer_number"]
