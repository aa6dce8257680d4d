from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StaffConfig(AppConfig):
    name = "bieb.staff"
    label = "staff"
    verbose_name = "Medewerkers"
    default = True


class BiebAdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site (staff login limits, a second factor for superusers)."""

    default = False
    default_site = "bieb.staff.admin_site.BiebAdminSite"
