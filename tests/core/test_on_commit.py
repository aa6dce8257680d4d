"""A robust on_commit callback that fails is logged by Django under its __qualname__: a
callable without one (a functools.partial, an instance) turned the logged failure into an
AttributeError, and the request into a 500 (seen when PostgreSQL went away between a counter
registration's commit and its KB call). Each of our robust callbacks, made to fail, is run by
Django's own commit-hook runner here."""

from collections.abc import Callable

import pytest
from django.db import DatabaseError, connection

from bieb.kboutbox.services import AfterCommit
from bieb.payments.providers.demo import _webhook_after_commit


def fail(*args: object, **kwargs: object) -> None:
    raise DatabaseError("the database went away")


@pytest.mark.parametrize(
    ("make", "target"),
    [
        (lambda: AfterCommit(1, "req"), "bieb.kboutbox.services.kb_call_run"),
        (
            lambda: _webhook_after_commit("checkout"),
            "bieb.payments.providers.demo._enqueue_webhook",
        ),
    ],
    ids=["kb call", "demo webhook"],
)
def test_a_failing_robust_callback_is_logged_not_raised(
    make: Callable[[], Callable[[], None]],
    target: str,
    monkeypatch: pytest.MonkeyPatch,
    settings: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.BIEB_KB_OUTBOX_INLINE = True  # type: ignore[attr-defined]
    monkeypatch.setattr(target, fail)
    saved = connection.run_on_commit
    connection.run_on_commit = [(set(), make(), True)]
    try:
        connection.run_and_clear_commit_hooks()  # raises nothing
    finally:
        connection.run_on_commit = saved
    assert "the database went away" in caplog.text
