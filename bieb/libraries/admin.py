from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from bieb.core.admin_scoping import LibraryScopedAdmin
from bieb.libraries.models import Branch, Discount, Library, SubscriptionType, Tariff


class BranchInline(admin.TabularInline):
    model = Branch
    extra = 0


@admin.register(Library)
class LibraryAdmin(LibraryScopedAdmin):
    library_field = "id"
    list_display = ["code", "name", "customer_number_prefix", "customer_number_length"]
    search_fields = ["code", "name"]
    inlines = [BranchInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Library]:
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk=getattr(request.user, "library_id", None))


@admin.register(Branch)
class BranchAdmin(LibraryScopedAdmin):
    list_display = ["number", "name", "library"]
    list_filter = ["library"]
    search_fields = ["number", "name"]


@admin.register(SubscriptionType)
class SubscriptionTypeAdmin(LibraryScopedAdmin):
    list_display = [
        "code",
        "name",
        "price",
        "period_months",
        "renewal",
        "age_band",
        "digital_rights",
        "physical_loans",
        "card",
        "login_account_required",
        "offered_online",
        "active",
        "library",
    ]
    list_filter = ["library", "digital_rights", "offered_online", "active"]
    search_fields = ["code", "name"]

    @admin.display(description="leeftijd")
    def age_band(self, obj: SubscriptionType) -> str:
        return obj.age_band_label()


@admin.register(Tariff)
class TariffAdmin(LibraryScopedAdmin):
    list_display = ["code", "name", "kind", "amount", "is_default", "library"]
    list_filter = ["library", "kind"]


@admin.register(Discount)
class DiscountAdmin(LibraryScopedAdmin):
    list_display = ["code", "name", "kind", "value", "library"]
    list_filter = ["library", "kind"]
