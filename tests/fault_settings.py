"""Settings for the processes that the fault tests start and kill (`bieb serve` as a worker, a
periodic runner or a web server, against the test database): the test settings, but with the
real task backend (the database queue, or RQ when REDIS_URL is set) instead of running tasks
at once, the production's kept and checked database connections, and a mail claim that runs
out after seconds instead of minutes, so that a test need not wait five minutes for a killed
worker's claim to run out."""

import importlib

from bieb.test_settings import *  # noqa: F403

# Imported (and so configured) by the line above; its choice, before the test settings' own.
TASKS = importlib.import_module("bieb.settings").TASKS
BIEB_MAIL_SEND_LEASE_SECONDS = 3
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["CONN_MAX_AGE"] = DATABASE_CONN_MAX_AGE  # noqa: F405 (tests: 0)
