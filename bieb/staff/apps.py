from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "bieb.staff"
    label = "staff"
    verbose_name = "Medewerkers"
