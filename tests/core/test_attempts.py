"""The generic attempt counter and the once-only form keys of bieb.core."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from bieb.core.attempts import attempts_clear, attempts_count, attempts_prune, attempts_record
from bieb.core.models import Submission
from bieb.core.submissions import AlreadySubmitted, submission_claim, submissions_prune

pytestmark = pytest.mark.django_db


def test_attempts_are_counted_per_key_within_the_window() -> None:
    window = dt.timedelta(minutes=15)
    attempts_record(keys=["a", "b"])
    attempts_record(keys=["a"])
    assert attempts_count(keys=["a", "b", "c"], window=window) == {"a": 2, "b": 1}
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert attempts_count(keys=["a"], window=window)["a"] == 0
        assert attempts_prune(older_than=window) == 3
    attempts_record(keys=["a"])
    attempts_clear(key="a")
    assert attempts_count(keys=["a"], window=window)["a"] == 0


def test_a_key_is_claimed_once_and_a_rolled_back_claim_is_free_again() -> None:
    key = uuid.uuid4()
    with pytest.raises(RuntimeError), transaction.atomic():
        submission_claim(key=key, scope="test")
        raise RuntimeError("the change failed")
    assert not Submission.objects.exists()
    submission_claim(key=key, scope="test")
    with pytest.raises(AlreadySubmitted), transaction.atomic():
        submission_claim(key=key, scope="test")
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        assert submissions_prune(older_than=dt.timedelta(days=7)) == 1
