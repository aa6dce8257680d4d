from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Payments: one provider interface (desk, demo, Mollie), payments and their webhooks."""

    name = "bieb.payments"
    label = "payments"
    verbose_name = "Betalingen"

    def ready(self) -> None:
        from bieb.payments import (
            metrics,  # noqa: F401  (the payments' gauges)
            periodic,  # noqa: F401  (registers the status check)
            periods,  # noqa: F401  (registers the period payment handler)
        )
