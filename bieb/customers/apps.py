from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "bieb.customers"
    label = "customers"
    verbose_name = "Klantenadministratie"
