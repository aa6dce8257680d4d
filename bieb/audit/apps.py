from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "bieb.audit"
    label = "audit"
    verbose_name = "Audit"
