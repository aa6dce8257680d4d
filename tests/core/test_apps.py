"""Each app's own configuration is the one Django uses: an app module with two AppConfig
classes and no default makes Django fall back to a bare one, whose ready() never runs (the
`__any` lookup and the staff-session signal of core were lost that way once)."""

from django.apps import apps
from django.contrib.auth.signals import user_logged_in
from django.db.models import CharField

from bieb.core.apps import CoreConfig


def test_core_runs_its_own_ready() -> None:
    assert isinstance(apps.get_app_config("core"), CoreConfig)
    assert CharField().get_lookup("any") is not None
    keys = [entry[0][0] for entry in user_logged_in.receivers]
    assert "bieb.core.staff_session_start" in keys


def test_every_bieb_app_uses_the_config_of_its_apps_module() -> None:
    for config in apps.get_app_configs():
        if config.name.startswith("bieb."):
            assert type(config).__module__ == f"{config.name}.apps", config.name
