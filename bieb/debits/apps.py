from django.apps import AppConfig


class DebitsConfig(AppConfig):
    """Direct debit (automatische incasso): mandates, collections in pain.008 files, and the
    debits the bank returns."""

    name = "bieb.debits"
    label = "debits"
    verbose_name = "Automatische incasso"
