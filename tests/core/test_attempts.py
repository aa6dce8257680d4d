"""The generic attempt counter and the once-only form keys of bieb.core."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from bieb.core.attempts import (
    Limit,
    attempts_clear,
    attempts_prune,
    attempts_succeeded,
    attempts_take,
    is_limited,
    wait_words,
)
from bieb.core.models import Submission, Throttle
from bieb.core.submissions import AlreadySubmitted, submission_claim, submissions_prune

pytestmark = pytest.mark.django_db

SECOND = dt.timedelta(seconds=1)


def test_a_hard_limit_refuses_until_its_window_ends_and_counts_no_refusal() -> None:
    window = dt.timedelta(minutes=15)
    assert [is_limited(key="a", limit=2, window=window) for _ in range(3)] == [False, False, True]
    assert not is_limited(key="b", limit=2, window=window)  # keys are counted apart
    assert Throttle.objects.get(key="a").count == 2  # the refused one is not counted
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        assert attempts_take(limits={"a": Limit(free=2, window=window)}).wait <= 60 * SECOND
    with time_machine.travel(start + dt.timedelta(minutes=16)):
        assert not is_limited(key="a", limit=2, window=window)
        assert Throttle.objects.get(key="a").count == 1  # a new window
    attempts_clear(key="a")
    assert Throttle.objects.get(key="a").count == 0


def test_past_the_free_attempts_each_next_one_waits_twice_as_long_up_to_the_cap() -> None:
    limit = Limit(free=2, window=dt.timedelta(hours=1), delay=2 * SECOND, cap=10 * SECOND)
    start = timezone.now()
    waits = []
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(7):
            taken = attempts_take(limits={"k": limit})
            if taken.refused:
                waits.append(round(taken.wait.total_seconds()))
                clock.shift(taken.wait)
                assert not attempts_take(limits={"k": limit}).refused
            else:
                waits.append(0)
    assert waits == [0, 0, 2, 4, 8, 10, 10]


def test_one_refused_key_counts_nothing_under_the_others() -> None:
    hard = Limit(free=1, window=dt.timedelta(hours=1))
    assert not attempts_take(limits={"x": hard, "y": hard}).refused
    assert attempts_take(limits={"x": hard, "z": hard}).refused
    assert not Throttle.objects.filter(key="z", count__gt=0).exists()


def test_a_success_takes_its_count_back_and_trusts_its_key() -> None:
    pair = Limit(free=1, window=dt.timedelta(hours=1))
    wide = Limit(free=1, window=dt.timedelta(hours=1))
    limits = {"pair": pair, "wide": wide}
    taken = attempts_take(limits=limits, trusted_by="pair", trust_for=dt.timedelta(days=1))
    attempts_succeeded(keys=taken.keys, trusted="pair", keep=dt.timedelta(days=1))
    assert dict(Throttle.objects.values_list("key", "count")) == {"pair": 0, "wide": 0}
    Throttle.objects.filter(key="wide").update(count=5)  # strangers elsewhere
    taken = attempts_take(limits=limits, trusted_by="pair", trust_for=dt.timedelta(days=1))
    assert not taken.refused and taken.keys == ("pair",)
    later = timezone.now() + dt.timedelta(days=2)
    with time_machine.travel(later):
        # the trust is over, and the strangers are still busy: the wide limit applies again
        Throttle.objects.filter(key="wide").update(count=5, first_at=later, keep_until=later)
        assert attempts_take(
            limits=limits, trusted_by="pair", trust_for=dt.timedelta(days=1)
        ).refused
    with time_machine.travel(later + dt.timedelta(hours=2)):
        assert attempts_prune() == 2  # neither window nor trust keeps them any longer


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.2, "1 seconde"), (8, "8 seconden"), (61, "2 minuten"), (60, "1 minuut"), (3600, "1 uur")],
)
def test_waits_are_said_in_dutch_rounded_up(seconds: float, words: str) -> None:
    assert wait_words(dt.timedelta(seconds=seconds)) == words


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
