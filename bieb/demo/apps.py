from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data of DESIGN.md (`bieb demo`): the top of the house, it may import every app;
    no app imports it (import-linter's contracts in pyproject.toml keep it so)."""

    name = "bieb.demo"
    label = "demo"
    verbose_name = "Demo"
