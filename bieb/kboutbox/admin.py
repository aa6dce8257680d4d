from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from bieb.kboutbox.models import KBCall, KBCallState
from bieb.kboutbox.services import kb_call_retry_now


@admin.register(KBCall)
class KBCallAdmin(admin.ModelAdmin):
    """For national operators: the library's calls to the KB, to see the ones that are stuck
    (filter on status "wacht" with pogingen > 0, or "geweigerd door de KB"). Read-only but for
    "Nu opnieuw proberen"; `bieb kboutbox` shows the same on the command line."""

    list_display = [
        "id",
        "created_at",
        "library",
        "customer",
        "kind",
        "state",
        "attempts",
        "last_attempt_at",
        "next_attempt_at",
        "short_error",
    ]
    list_filter = ["state", "kind", "unavailable", "library"]
    search_fields = ["ordering_key", "=idempotency_key", "customer__number"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    exclude = ["payload"]  # may hold a link code, an ID token and an e-mail address
    readonly_fields = [f.name for f in KBCall._meta.fields if f.name != "payload"]

    @admin.display(description="laatste fout")
    def short_error(self, obj: KBCall) -> str:
        return obj.last_error[:120]

    @admin.action(description="Nu opnieuw proberen")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[KBCall]) -> None:
        count = sum(
            kb_call_retry_now(call_id=pk)
            for pk in queryset.filter(state=KBCallState.PENDING).values_list("pk", flat=True)
        )
        self.message_user(
            request,
            f"{count} opdracht(en) staan klaar; de periodieke taak voert ze binnen een minuut uit.",
            messages.SUCCESS,
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only the action above changes anything; the form itself is read-only.
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
