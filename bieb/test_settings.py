"""Settings for the test suite: the demo defaults, with a throwaway key and no outgoing mail."""

import os

os.environ.setdefault("BIEB_DEMO", "1")
os.environ.setdefault("SECRET_KEY", "test-only-" + "x" * 40)

from bieb.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Live-server tests answer each request in a thread of its own; a kept-open connection would
# outlive it and block dropping the PostgreSQL test database.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Two test runs on one PostgreSQL server at once (e.g. two developers' checkouts) need their
# own test databases: BIEB_TEST_DB_NAME=test_bieb_a.
if os.environ.get("BIEB_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["BIEB_TEST_DB_NAME"]}  # noqa: F405
