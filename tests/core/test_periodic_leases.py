"""Periodic jobs across servers (bieb.core.periodic): each due time runs once, however many
`runperiodic` processes there are; a failing job gives its lease back; a dead holder's lease
runs out and is taken over."""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import time_machine
from django.db import connection

from bieb.core import periodic
from bieb.core.models import JobLease, JobRun
from bieb.core.periodic import JOBS, PeriodicJob, job_claim, job_run_due

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def job(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A job of our own, every hour, that records each run."""
    runs: list[str] = []

    def tally() -> object:
        runs.append("run")
        return len(runs)

    monkeypatch.setitem(
        JOBS, "tally", PeriodicJob(name="tally", every=dt.timedelta(hours=1), run=tally)
    )
    return runs


def test_a_due_time_runs_once_and_the_next_is_an_interval_on(job: list[str]) -> None:
    with time_machine.travel(T0, tick=False):
        assert job_run_due("tally", holder="a") is not None
        assert job_run_due("tally", holder="b") is None  # not due again
    with time_machine.travel(T0 + dt.timedelta(minutes=59), tick=False):
        assert job_run_due("tally", holder="b") is None
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        assert job_run_due("tally", holder="b") is not None
        assert job_run_due("tally", holder="a") is None
    assert job == ["run", "run"]
    assert list(JobRun.objects.order_by("started_at").values_list("holder", "ok")) == [
        ("a", True),
        ("b", True),
    ]


def test_a_lease_that_runs_blocks_another_server_even_when_forced(job: list[str]) -> None:
    with time_machine.travel(T0, tick=False):
        assert job_claim("tally", holder="a") is not None
        assert job_claim("tally", holder="b") is None
        assert job_run_due("tally", holder="b", force=True) is None
    assert job == []


def test_a_dead_holders_lease_runs_out_and_is_taken_over(job: list[str]) -> None:
    with time_machine.travel(T0, tick=False):
        assert job_claim("tally", holder="dead") is not None  # and then the process died
    with time_machine.travel(T0 + periodic.LEASE - dt.timedelta(seconds=1), tick=False):
        assert job_run_due("tally", holder="b") is None
    with time_machine.travel(T0 + periodic.LEASE + dt.timedelta(seconds=1), tick=False):
        assert job_run_due("tally", holder="b") is not None
    assert job == ["run"]
    lease = JobLease.objects.get(name="tally")
    assert (lease.holder, lease.leased_until) == ("", None)


def test_a_failing_job_gives_its_lease_back_and_is_due_again_soon(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> object:
        raise RuntimeError("kapot")

    monkeypatch.setitem(
        JOBS, "broken", PeriodicJob(name="broken", every=dt.timedelta(days=1), run=broken)
    )
    with time_machine.travel(T0, tick=False):
        run = job_run_due("broken", holder="a")
    assert run is not None
    failed = JobRun.objects.get(name="broken")
    assert failed.ok is False and "kapot" in failed.result
    lease = JobLease.objects.get(name="broken")
    assert lease.leased_until is None
    assert lease.due_at == T0 + periodic.RETRY  # not a day later
    with time_machine.travel(T0 + periodic.RETRY, tick=False):
        assert job_run_due("broken", holder="b") is not None


def test_a_run_that_outlived_its_lease_leaves_the_new_holders_lease_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run that takes longer than its lease: another server took the job over meanwhile;
    the slow one, finishing, does not end the other's lease nor set the due time."""
    taken: list[object] = []

    def slow() -> object:
        with time_machine.travel(T0 + periodic.LEASE + dt.timedelta(minutes=1), tick=False):
            taken.append(job_claim("slow", holder="b"))
        return "klaar"

    monkeypatch.setitem(
        JOBS, "slow", PeriodicJob(name="slow", every=dt.timedelta(days=1), run=slow)
    )
    with time_machine.travel(T0, tick=False):
        assert job_run_due("slow", holder="a") is not None
    assert taken == [T0]
    lease = JobLease.objects.get(name="slow")
    assert lease.holder == "b" and lease.leased_until is not None
    assert lease.due_at == T0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_periodic_servers_at_once_run_each_job_once_per_due_time() -> None:
    """Two `bieb serve --role periodic` on one PostgreSQL database, as on two servers: every
    job's first due time runs once, on one of them; they start no web server or worker."""
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bieb.test_settings"}
    command = [sys.executable, "-m", "bieb", "serve", "--role", "periodic"]
    processes = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if set(JobRun.objects.values_list("name", flat=True)) >= set(JOBS):
                break
            time.sleep(0.5)
        time.sleep(3)  # both keep ticking: nothing is due again this soon
    finally:
        for process in processes:
            process.terminate()
        outputs = [process.communicate(timeout=30) for process in processes]
    errors = [err for _out, err in outputs]
    assert all("periodic is running" in out for out, _err in outputs), outputs
    assert not any("gunicorn" in err or "db_worker" in err for err in errors), errors
    runs = list(JobRun.objects.values_list("name", "holder"))
    assert sorted(name for name, _holder in runs) == sorted(JOBS), errors
    failed = list(JobRun.objects.filter(ok=False).values_list("name", "result"))
    assert not failed, failed
