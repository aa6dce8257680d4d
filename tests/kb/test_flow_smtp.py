"""The whole counter flow of the login service with a real SMTP server: register at the counter,
receive the activation mail, open the link, set a password, log in."""

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal

import pytest
from django.test import Client

from bieb.customers.ledger import ledger_payment_book
from bieb.customers.services import customer_register
from bieb.kb import interface
from bieb.libraries.models import Branch, SubscriptionType
from bieb.staff.models import User
from tests.customers.factories import details
from tests.smtp import SmtpServer

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], object]]]]
PASSWORD = "Leeslamp-Duinpan-42"


@pytest.mark.django_db
def test_counter_registration_mail_activation_and_login(
    smtp_server: SmtpServer,
    django_capture_on_commit_callbacks: CaptureOnCommit,
    balie: User,
    branch_5280: Branch,
    digital_only: SubscriptionType,
    client: Client,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        registration = customer_register(
            actor=balie,
            branch=branch_5280,
            details=details(email="e.b.tester@example.nl"),
            subscription_type=digital_only,
        )
    number = registration.customer.number

    [mail] = smtp_server.received
    assert smtp_server.recipients == [["e.b.tester@example.nl"]]
    assert "Activeer je inlogaccount" in str(mail["Subject"])
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f"Je gebruikersnaam is: {number}" in text
    assert "24 uur" in text
    link = re.search(r"http://\S+/kb/activeren/\S+", text)
    assert link is not None
    path = link.group(0).split("127.0.0.1:8000", 1)[1]

    assert client.get(path).status_code == 200  # a mail scanner opening the link changes nothing
    assert interface.account_status(username=number).state == "wacht"
    activated = client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
    assert (activated.status_code, activated["Location"]) == (302, "/online/inloggen/")
    assert number in client.get("/kb/").content.decode()  # signed in by the activation
    assert interface.account_status(username=number).label == "actief"

    # Paid at the desk: the membership's rights start, and the login service knows it.
    ledger_payment_book(
        actor=balie, customer=registration.customer, amount=Decimal("42.00"), method="contant"
    )
    other = Client()
    login = other.post("/kb/inloggen/", {"username": number, "password": PASSWORD})
    assert login.status_code == 302
    home = other.get("/kb/").content.decode()
    valid_through = registration.membership.valid_through.strftime("%d-%m-%Y")
    assert number in home and "Bibliotheken Bind" in home and valid_through in home
