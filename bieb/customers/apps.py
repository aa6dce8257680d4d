from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "bieb.customers"
    label = "customers"
    verbose_name = "Klantenadministratie"

    def ready(self) -> None:
        from bieb.customers import (
            kb_calls,  # noqa: F401  (how its calls to the login service are made)
            periodic,  # noqa: F401  (registers the renewal run)
            receivers,  # noqa: F401  (listens to the login service)
        )
