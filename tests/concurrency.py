"""Requests at the same moment, each on its own thread and database connection (PostgreSQL tests
of races: double clicks, parallel guesses, two sign-ups with one name)."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def at_once(requests: list[Callable[[], Any]]) -> list[Any]:
    """Run the callables together (a barrier releases them at once) and return their results in
    order; an exception is returned in its place, so that a server error shows in the test."""
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = requests[index]()
        except BaseException as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results
