"""Requests for one name at the same moment, served by connections side by side: PostgreSQL
only, where that really happens. Each gets a Dutch answer; none gets a server error."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from bieb.kb.models import LoginAccount

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(requests: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = requests[index]()
        except BaseException as error:  # a server error: shown by the test, not lost
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_sign_ups_with_one_username_at_once_make_one_account_and_answer_in_dutch() -> None:
    clients = [
        Client(REMOTE_ADDR=f"192.0.2.{i + 1}", raise_request_exception=True) for i in range(8)
    ]
    data = [{"username": "gelijktijdig", "email": f"lezer{i}@example.nl"} for i in range(8)]
    responses = at_once(
        [lambda c=c, d=d: c.post("/kb/aanmelden/", d) for c, d in zip(clients, data, strict=True)]
    )
    assert all(not isinstance(r, BaseException) for r in responses), responses
    assert [r.status_code for r in responses] == [200] * 8
    pages = [r.content.decode() for r in responses]
    taken = [p for p in pages if "Deze gebruikersnaam is al in gebruik; kies een andere." in p]
    assert len(taken) == 7
    assert LoginAccount.objects.filter(username="gelijktijdig").count() == 1
