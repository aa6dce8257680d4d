from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from bieb.core.admin_scoping import LibraryScopedAdmin
from bieb.libraries.models import Branch, Discount, Library, SubscriptionType, Tariff


def _library_side(model: type[Model]) -> Any:
    """Register the admin only where the library side runs: a KB installation (BIEB_ROLE=kb)
    keeps the libraries' tables, as its staff users belong to one, but has no library to
    manage (it knows them by their contact details)."""

    def register(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
        if settings.BIEB_HAS_LIBRARY:
            admin.site.register(model, admin_class)
        return admin_class

    return register


class BranchInline(admin.TabularInline):
    model = Branch
    extra = 0


@_library_side(Library)
class LibraryAdmin(LibraryScopedAdmin):
    library_field = "id"
    list_display = ["code", "name", "customer_number_prefix", "customer_number_length"]
    search_fields = ["code", "name"]
    inlines = [BranchInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "code",
                    "name",
                    "customer_number_prefix",
                    "customer_number_length",
                    "payment_provider",
                ]
            },
        ),
        (
            "Contact",
            {
                "description": (
                    "In elke mail aan leden, en waar een pagina zegt 'neem contact op met de "
                    "bibliotheek'."
                ),
                "fields": ["contact_address", "contact_phone", "contact_email", "website"],
            },
        ),
        (
            "Lidmaatschapsjaar",
            {
                "description": "Betalen, verlengen en herinneren; standaard zoals in Wise.",
                "fields": [
                    "payment_term_days",
                    "renewal_lead_days",
                    "grace_days",
                    ("reminder_first_days", "reminder_second_days"),
                    "arrears_months",
                ],
            },
        ),
        (
            "Automatische incasso",
            {
                "description": (
                    "De bibliotheek als incassant, met haar eigen bank. Zonder Incassant-ID en "
                    "IBAN incasseert de bibliotheek niet."
                ),
                "fields": [
                    "creditor_name",
                    "creditor_id",
                    ("creditor_iban", "creditor_bic"),
                    "prenotification_days",
                    "collection_day",
                    "debits_per_file",
                ],
            },
        ),
        (
            "Privacy",
            {
                "description": (
                    "Persoonsgegevens van beëindigde lidmaatschappen worden na de bewaartermijn "
                    "geanonimiseerd (bieb retention)."
                ),
                "fields": ["retention_months"],
            },
        ),
    ]

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        warning = obj.debit_rights_gap_warning() if isinstance(obj, Library) else ""
        if warning:
            messages.warning(request, warning)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # A website typed without a scheme is read as https (Django 6's default, chosen now).
        if db_field.name == "website":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Library]:
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk=getattr(request.user, "library_id", None))


@_library_side(Branch)
class BranchAdmin(LibraryScopedAdmin):
    list_display = ["number", "name", "library"]
    list_filter = ["library"]
    search_fields = ["number", "name"]


class SubscriptionTypeForm(forms.ModelForm):
    class Meta:
        model = SubscriptionType
        fields = "__all__"  # noqa: DJ007  (the admin names the fields it shows)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        successor = cleaned.get("successor")
        library = cleaned.get("library") or getattr(self.instance, "library", None)
        if successor is not None:
            if self.instance.pk is not None and successor.pk == self.instance.pk:
                self.add_error("successor", "Een abonnement kan niet op zichzelf overgaan.")
            elif library is not None and successor.library_id != library.pk:
                self.add_error("successor", "Kies een abonnementstype van dezelfde bibliotheek.")
        return cleaned


@_library_side(SubscriptionType)
class SubscriptionTypeAdmin(LibraryScopedAdmin):
    form = SubscriptionTypeForm
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

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        field = form.base_fields.get("successor")
        if isinstance(field, forms.ModelChoiceField):
            # Only the same library's types (the one being changed, or the staff member's),
            # never the type itself.
            library_id = (
                obj.library_id if obj is not None else getattr(request.user, "library_id", None)
            )
            queryset = SubscriptionType.objects.all()
            if library_id is not None:
                queryset = queryset.filter(library_id=library_id)
            if obj is not None:
                queryset = queryset.exclude(pk=obj.pk)
            field.queryset = queryset
        return form


@_library_side(Tariff)
class TariffAdmin(LibraryScopedAdmin):
    list_display = ["code", "name", "kind", "amount", "is_default", "library"]
    list_filter = ["library", "kind"]


@_library_side(Discount)
class DiscountAdmin(LibraryScopedAdmin):
    list_display = ["code", "name", "kind", "value", "library"]
    list_filter = ["library", "kind"]
