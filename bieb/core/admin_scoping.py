"""Admin pages show a library's staff only their own library's rows; national operators see all."""

from typing import Any

from django.contrib import admin
from django.db.models import DecimalField, Model, QuerySet
from django.http import HttpRequest

from bieb.core.money import MoneyFormField


class LibraryScopedAdmin(admin.ModelAdmin):
    library_field = "library"
    # Every decimal a library configures is an amount in euros (or a percentage): typed
    # amounts are read by one parser everywhere (core.money).
    formfield_overrides = {DecimalField: {"form_class": MoneyFormField}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        user = request.user
        if user.is_superuser:
            return queryset
        library_id = getattr(user, "library_id", None)
        if library_id is None:
            return queryset.none()
        return queryset.filter(**{f"{self.library_field}_id": library_id})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        user = request.user
        related = db_field.related_model
        if not user.is_superuser and related is not None:
            library_id = getattr(user, "library_id", None)
            if related._meta.label == "libraries.Library":
                kwargs["queryset"] = related.objects.filter(pk=library_id)
            elif any(f.name == "library" for f in related._meta.fields):
                kwargs["queryset"] = related.objects.filter(library_id=library_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        user = request.user
        if not user.is_superuser and hasattr(obj, "library_id"):
            obj.library_id = getattr(user, "library_id", None)
        super().save_model(request, obj, form, change)


class ReadOnlyAdminMixin:
    """Shown in the admin, changed only through the services (counter, login service)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
