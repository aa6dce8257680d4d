"""Requests for one name at the same moment, served by connections side by side: PostgreSQL
only, where that really happens. Each gets a Dutch answer; none gets a server error."""

import pytest
from django.test import Client

from bieb.kb.models import LoginAccount
from tests.concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


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
