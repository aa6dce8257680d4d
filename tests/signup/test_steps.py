"""The sign-up's steps through Django's test client, with the member's login account already
known to the flow (the OpenID Connect part is tested against a live server elsewhere)."""

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from bieb.core.sessions import SessionStore
from bieb.customers.models import Customer, LedgerKind, MembershipStatus
from bieb.customers.selectors import customer_saldo
from bieb.kb.models import LoginAccount
from bieb.libraries.models import Library
from bieb.mail.models import OutboxMessage
from bieb.payments.models import DemoCheckout, Payment, PaymentStatus
from bieb.payments.services import payments_check_unsettled
from bieb.signup.models import Signup
from bieb.signup.services import signup_session_states_remove, signups_expired_remove
from tests.signup.factories import active_account, raw_details, start_payment

pytestmark = pytest.mark.django_db

BASE = "http://127.0.0.1:8000"


def with_account(client: Client, username: str = "e.b.tester", **state: Any) -> None:
    """The state after steps 1 and 2: Digital only chosen, the login account learnt."""
    account = LoginAccount.objects.filter(username=username).first()
    session = client.session
    session["signup:bind"] = {
        "key": str(uuid.uuid4()),
        "expires": (timezone.now() + dt.timedelta(hours=1)).isoformat(),
        "subscription": "0141",
        "username": username,
        "account_id": str(account.pk) if account else str(uuid.uuid4()),
        "account_email": f"{username}@example.nl",
        "details": {},
        "details_ok": False,
        "payment": "",
        "done": False,
        **state,
    }
    session.save()


@pytest.fixture
def member(demo: None) -> str:
    return active_account("e.b.tester").username


def text(response: Any) -> str:
    return response.content.decode()


def local(url: str) -> str:
    assert url.startswith(BASE), url
    return url[len(BASE) :]


def test_the_steps_go_in_order(client: Client, bind: Library) -> None:
    assert client.get("/word-lid/bind/")["Location"] == "/word-lid/bind/abonnement/"
    assert client.get("/word-lid/bind/betalen/")["Location"] == "/word-lid/bind/abonnement/"
    page = text(client.get("/word-lid/bind/abonnement/"))
    assert "Kies het type abonnement" in page
    assert "0141 Digital only € 42,00 /12 mnd" in page
    assert "Jeugd" not in page  # not offered online
    assert 'id="abonnement_0141"' in page and 'for="abonnement_0141"' in page
    assert client.post("/word-lid/bind/abonnement/", {"abonnement": "0101"}).status_code == 200
    chosen = client.post("/word-lid/bind/abonnement/", {"abonnement": "0141"})
    assert chosen["Location"] == "/word-lid/bind/inlogaccount/"
    assert client.get("/word-lid/bind/gegevens/")["Location"] == "/word-lid/bind/inlogaccount/"
    account = text(client.get("/word-lid/bind/inlogaccount/"))
    connect = "%2Fword-lid%2Fbind%2Finlogaccount%2Fkoppelen%2F%3Fabonnement%3D0141"
    assert f"/kb/aanmelden/?next=http%3A%2F%2F127.0.0.1%3A8000{connect}" in account
    assert f"/kb/inloggen/?next=http%3A%2F%2F127.0.0.1%3A8000{connect}" in account
    assert client.get("/word-lid/nergens/").status_code == 404
    assert not Signup.objects.exists() and not Customer.objects.exists()


def test_wrong_details_get_the_counters_messages_next_to_the_field(
    client: Client, member: str
) -> None:
    with_account(client)
    page = client.get("/word-lid/bind/gegevens/")
    assert 'value="e.b.tester@example.nl"' in text(page)  # from the login account
    response = client.post(
        "/word-lid/bind/gegevens/",
        raw_details(birth_date="31-02-1991", postcode="0123 AB", initials="E.B."),
    )
    page = text(response)
    assert response.status_code == 200
    assert "31-02-1991 bestaat niet; typ de datum als dd-mm-jjjj" in page
    assert "postcode" in page.lower()
    # everything typed is kept, the first wrong field has the focus and names its error
    assert 'value="31-02-1991"' in page and 'value="0123 AB"' in page and 'value="E.B."' in page
    birth = re.search(r"<input[^>]*name=\"birth_date\"[^>]*>", page)
    assert birth is not None
    assert "autofocus" in birth.group(0) and 'aria-invalid="true"' in birth.group(0)
    assert 'aria-describedby="id_birth_date_error id_birth_date_helptext"' in birth.group(0)
    postcode = re.search(r"<input[^>]*name=\"postcode\"[^>]*>", page)
    assert postcode is not None and "autofocus" not in postcode.group(0)
    assert 'for="id_birth_date">Geboortedatum (dd-mm-jjjj)</label>' in page


def test_digital_only_is_refused_under_18(client: Client, member: str) -> None:
    with_account(client)
    page = text(client.post("/word-lid/bind/gegevens/", raw_details(birth_date="01-01-2015")))
    assert "Digital only is voor klanten van 18 jaar en ouder" in page


def test_an_existing_member_is_not_signed_up_twice(
    client: Client, member: str, digital_only: Any
) -> None:
    with_account(client)
    client.post("/word-lid/bind/gegevens/", raw_details())
    client.post("/word-lid/bind/betalen/")
    payment = Payment.objects.get()
    DemoCheckout.objects.filter(pk=payment.provider_id).update(status="paid")
    client.get(f"/word-lid/bind/betaling/{payment.public_id}/")
    other = Client()
    with_account(other)
    response = other.post("/word-lid/bind/gegevens/", raw_details(surname="Anders"))
    assert response["Location"] == "/word-lid/bind/inlogaccount/"
    assert "Je bent al lid van Bibliotheken Bind" in text(other.get(response["Location"]))
    # and the service behind "Betalen" refuses it too (a membership made meanwhile)
    with pytest.raises(ValidationError, match="ben je al lid van Bibliotheken Bind"):
        start_payment(Library.objects.get(code="bind"), digital_only, surname="Anders")
    assert Customer.objects.count() == 1


def test_the_payment_step_says_plainly_what_is_paid_for_which_period_and_how_it_renews(
    client: Client, member: str
) -> None:
    with_account(client)
    assert client.post("/word-lid/bind/gegevens/", raw_details())["Location"] == (
        "/word-lid/bind/betalen/"
    )
    with time_machine.travel(dt.datetime(2026, 6, 10, 12, tzinfo=dt.UTC)):
        page = text(client.get("/word-lid/bind/betalen/"))
    for jargon in ("Tariefcode", "Vervalmaand", "Rechten t/m", "Opbouw abonnementskosten"):
        assert jargon not in page
    plain = re.sub(r"<[^>]+>", "", page)
    assert "Digital only" in plain and "Mw. E.B. Tester" in plain
    assert "van juni 2026 tot en met mei 2027" in plain
    assert "Je betaalt nu € 42,00" in plain
    assert "loopt na 12 maanden af, je kunt het dan verlengen" in plain
    assert ">Betalen</button>" in page


def test_a_continuing_subscription_says_it_renews_until_cancelled(
    client: Client, member: str, digital_only: Any
) -> None:
    digital_only.renewal = "doorlopend"
    digital_only.save()
    with_account(client)
    client.post("/word-lid/bind/gegevens/", raw_details())
    plain = re.sub(r"<[^>]+>", "", text(client.get("/word-lid/bind/betalen/")))
    assert "wordt elk jaar verlengd tot je opzegt" in plain
    assert "loopt na 12 maanden af" not in plain


def test_an_existing_member_is_told_at_the_account_step(client: Client, member: str) -> None:
    with_account(client)
    client.post("/word-lid/bind/gegevens/", raw_details())
    client.post("/word-lid/bind/betalen/")
    payment = Payment.objects.get()
    DemoCheckout.objects.filter(pk=payment.provider_id).update(status="paid")
    client.get(f"/word-lid/bind/betaling/{payment.public_id}/")

    other = Client()  # the same login account, signing up again in another browser
    with_account(other)
    assert other.get("/word-lid/bind/gegevens/")["Location"] == "/word-lid/bind/inlogaccount/"
    page = text(other.get("/word-lid/bind/inlogaccount/"))
    assert "<h1>Je bent al lid van Bibliotheken Bind</h1>" in page
    assert "Digital only" in page and 'href="/online/"' in page
    assert "Ander inlogaccount gebruiken" in page
    assert 'href="/word-lid/bind/gegevens/"' not in page  # no "Volgende"


def test_cost_build_up_and_a_double_betalen_make_one_payment(client: Client, member: str) -> None:
    with_account(client)
    assert client.post("/word-lid/bind/gegevens/", raw_details())["Location"] == (
        "/word-lid/bind/betalen/"
    )
    first = client.post("/word-lid/bind/betalen/")
    second = client.post("/word-lid/bind/betalen/")  # double click / refresh of the POST
    assert first["Location"] == second["Location"]
    assert "/betalen/demo/demo_" in first["Location"]
    payment = Payment.objects.get()
    assert payment.amount == Decimal("42.00") and payment.status == PaymentStatus.OPEN
    assert Signup.objects.count() == 1 and not Customer.objects.exists()


def test_a_failed_payment_then_a_successful_retry(client: Client, member: str) -> None:
    with_account(client)
    client.post("/word-lid/bind/gegevens/", raw_details())
    checkout = local(client.post("/word-lid/bind/betalen/")["Location"])
    assert "Demo-betaaldienst" in text(client.get(checkout))
    back = local(client.post(checkout, {"uitkomst": "mislukt"})["Location"])
    # no webhook in this test (nothing runs on commit): the return page asks the provider
    assert client.get(back)["Location"] == "/word-lid/bind/betalen/"
    page = text(client.get("/word-lid/bind/betalen/"))
    assert "De betaling is mislukt." in page and ">Betalen</button>" in page
    assert not Customer.objects.exists()

    retry = local(client.post("/word-lid/bind/betalen/")["Location"])
    assert retry != checkout
    back = local(client.post(retry, {"uitkomst": "betaald"})["Location"])
    assert client.get(back)["Location"] == "/word-lid/bind/klaar/"
    done = text(client.get("/word-lid/bind/klaar/"))
    customer = Customer.objects.get()
    assert "Welkom bij Bibliotheken Bind" in done and customer.number in done
    assert "<dt>Saldo</dt><dd>€ 0,00</dd>" in done and "geen pas" in done

    assert [p.status for p in Payment.objects.order_by("id")] == ["failed", "paid"]
    assert customer_saldo(customer=customer) == Decimal("0.00")
    assert sorted(customer.ledger_lines.values_list("kind", "amount")) == [
        (LedgerKind.FEE, Decimal("42.00")),
        (LedgerKind.PAYMENT, Decimal("-42.00")),
    ]
    assert customer.memberships.get().status == MembershipStatus.ACTIVE
    welcome = OutboxMessage.objects.get(kind="signup.welcome")
    assert welcome.to == "e.b.tester@example.nl" and customer.number in welcome.text_body
    # the library's contact details, as in every mail of the library
    assert "Vragen? Neem contact op met de bibliotheek:" in welcome.text_body
    for line in ("Stationsstraat 1, 9401 KX Assen", "0592 123 456", "info@bind.example"):
        assert line in welcome.text_body

    # back, refresh and another "Betalen" after it is done: nothing new
    assert client.get("/word-lid/bind/betalen/")["Location"] == "/word-lid/bind/klaar/"
    assert client.post("/word-lid/bind/betalen/")["Location"] == "/word-lid/bind/klaar/"
    assert client.get(back)["Location"] == "/word-lid/bind/klaar/"
    assert Payment.objects.count() == 2 and Customer.objects.count() == 1
    # and someone else can start afresh on this device
    assert client.post("/word-lid/bind/opnieuw/")["Location"] == "/word-lid/bind/"
    assert client.get("/word-lid/bind/")["Location"] == "/word-lid/bind/abonnement/"


def test_an_abandoned_sign_up_leaves_no_customer(client: Client, member: str) -> None:
    with_account(client)
    client.post("/word-lid/bind/gegevens/", raw_details())
    assert not Signup.objects.exists()  # before "Betalen" only the session knows
    client.post("/word-lid/bind/betalen/")  # ... and then the member walks away
    assert Signup.objects.count() == 1 and not Customer.objects.exists()

    assert signups_expired_remove()["removed"] == 0  # not expired yet
    session_key = client.cookies["sessionid"].value
    assert "signup:bind" in SessionStore(session_key).load()
    assert signup_session_states_remove() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(hours=24, minutes=30)):
        # what was typed is taken out of the session as well
        assert signup_session_states_remove() == 1
    assert "signup:bind" not in SessionStore(session_key).load()
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)):
        payments_check_unsettled()  # the demo payment has expired meanwhile
        assert signups_expired_remove()["removed"] == 1
        # the session's half-filled state has expired too
        assert client.get("/word-lid/bind/betalen/")["Location"] == "/word-lid/bind/abonnement/"
    assert not Signup.objects.exists() and not Customer.objects.exists()
    assert Payment.objects.get().status == PaymentStatus.EXPIRED


def test_an_open_payment_keeps_its_sign_up_for_a_while(client: Client, member: str) -> None:
    with_account(client)
    client.post("/word-lid/bind/gegevens/", raw_details())
    client.post("/word-lid/bind/betalen/")
    payment = Payment.objects.get()
    # the provider still says "open" (a slow bank); the sign-up is kept, then given up
    Payment.objects.filter(pk=payment.pk).update(provider="mollie")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)):
        assert signups_expired_remove()["kept_open_payment"] == 1
    with time_machine.travel(timezone.now() + dt.timedelta(days=9)):
        assert signups_expired_remove()["removed"] == 1
    assert not Customer.objects.exists()


def test_paid_while_away_from_the_site_shows_the_done_page(client: Client, member: str) -> None:
    with_account(client)
    client.post("/word-lid/bind/gegevens/", raw_details())
    client.post("/word-lid/bind/betalen/")
    payment = Payment.objects.get()
    # the member paid and closed the tab; the provider's webhook completed the sign-up
    DemoCheckout.objects.filter(pk=payment.provider_id).update(status="paid")
    assert client.post("/betalen/webhook/demo/", {"id": payment.provider_id}).status_code == 200
    assert client.get("/word-lid/bind/")["Location"] == "/word-lid/bind/klaar/"
    assert Customer.objects.get().number in text(client.get("/word-lid/bind/klaar/"))


def test_a_likely_duplicate_is_told_how_to_reach_the_library(
    member: str, bind: Library, digital_only: Any, balie: Any, branch_5280: Any
) -> None:
    from bieb.customers.services import customer_register
    from bieb.signup.services import signup_details_check
    from tests.customers.factories import details

    customer_register(
        actor=balie, branch=branch_5280, details=details(), subscription_type=digital_only
    )
    account = LoginAccount.objects.get(username=member)
    with pytest.raises(ValidationError) as refused:
        signup_details_check(
            library=bind,
            subscription_type=digital_only,
            username=member,
            account_id=account.pk,
            raw=raw_details(),
            today=dt.date.today(),
        )
    assert (
        "Ben je al lid? Neem dan contact op met de bibliotheek (0592 123 456 of "
        "info@bind.example); zij passen je abonnement aan."
    ) in str(refused.value)
