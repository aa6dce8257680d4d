"""Settings of the installations that tests/roles/test_three_installations.py starts: the test
settings (demo mode, static files from the apps without `collectstatic`), with the task queue
that production has (bieb.settings' choice: the database queue) instead of running each task
at once, and the mail claim of production (unlike tests.fault_settings, nothing here is killed
mid-send)."""

import importlib

from bieb.test_settings import *  # noqa: F403

TASKS = importlib.import_module("bieb.settings").TASKS
