"""gunicorn's hooks for `bieb serve` (`-c python:bieb.core.gunicorn_conf`): a worker that
exits leaves its live gauges out of /metrics (prometheus_client's multiprocess mode)."""

from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
