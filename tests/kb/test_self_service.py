""" "Mijn inlogaccount": what members change themselves at the login service, through its pages
(the test client) and its services: the e-mail link's rules, the username quarantine, the end
of sessions and tokens, deleting the account, and forgot-password without enumeration."""

import datetime as dt
import json
import re
import uuid

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from bieb.audit.models import AuditEvent
from bieb.customers.models import Customer
from bieb.kb import interface, self_service
from bieb.kb.models import (
    AccountEvent,
    HeldUsername,
    LinkedMembership,
    LoginAccount,
    OIDCAccessToken,
    OIDCApplication,
    OIDCIDToken,
    OIDCRefreshToken,
    SignIn,
)
from bieb.kb.services import account_create
from bieb.kb.signins import device_of, network_of
from bieb.mail.models import OutboxMessage
from tests.signup.factories import PASSWORD, active_account

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Boekenkast-Zeewind-73"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def signed_in(username: str = "e.b.tester", *, agent: str = PHONE, ip: str = "") -> Client:
    client = Client(HTTP_USER_AGENT=agent, **({"REMOTE_ADDR": ip} if ip else {}))
    response = client.post("/kb/inloggen/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    return client


def once() -> str:
    return str(uuid.uuid4())


def mailed(to: str, kind: str) -> str:
    return OutboxMessage.objects.filter(to=to, kind=kind).latest("id").text_body


def confirm_path(to: str) -> str:
    link = re.search(r"https?://[^/\s]+(/kb/e-mail-bevestigen/\S+)", mailed(to, "kb.email_change"))
    assert link
    return link.group(1)


def tokens_of(account: LoginAccount) -> OIDCAccessToken:
    """A sign-in at a relying party: ID, access and refresh token."""
    app = OIDCApplication.objects.create(
        name="Test",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://example.nl/terug/",
    )
    later = timezone.now() + dt.timedelta(hours=1)
    id_token = OIDCIDToken.objects.create(
        user=account, application=app, expires=later, jti=uuid.uuid4()
    )
    access = OIDCAccessToken.objects.create(
        user=account, token=uuid.uuid4().hex, application=app, expires=later, id_token=id_token
    )
    OIDCRefreshToken.objects.create(
        user=account, token=uuid.uuid4().hex, application=app, access_token=access
    )
    return access


def has_tokens(account: LoginAccount) -> bool:
    return any(
        model.objects.filter(user=account).exists()
        for model in (OIDCAccessToken, OIDCRefreshToken, OIDCIDToken)
    )


# --- the account page ------------------------------------------------------------------------


def test_the_page_shows_recent_sign_ins_with_device_and_network_never_the_address() -> None:
    active_account("e.b.tester")
    client = signed_in(ip="192.0.2.154")
    html = client.get("/kb/account/").content.decode()
    assert "Recente inlogmomenten" in html
    assert "Chrome Mobile op Android, netwerk 192.0.2.x" in html
    assert "192.0.2.154" not in html
    assert SignIn.objects.get().network == "192.0.2.x"  # the address is not stored here either


def test_device_and_network_in_words() -> None:
    assert device_of(PHONE) == "Chrome Mobile op Android"
    assert device_of("") == "onbekend apparaat"
    assert network_of("2001:db8:85a3:8d3:1319:8a2e:370:7348") == "2001:db8:85a3::/48"
    assert network_of(None) == ""


def test_signed_out_members_are_sent_to_the_login_and_come_back() -> None:
    response = Client().get("/kb/account/e-mail/")
    assert response["Location"] == "/kb/inloggen/?next=/kb/account/e-mail/"


# --- e-mail address --------------------------------------------------------------------------


def test_a_new_address_changes_only_when_confirmed_by_post_and_the_old_one_is_told() -> None:
    account = active_account("e.b.tester", "oud@example.nl")
    client = signed_in()
    page = client.post("/kb/account/e-mail/", {"email": "nieuw@example.nl", "once": once()})
    assert "Kijk in je mail" in page.content.decode()
    account.refresh_from_db()
    assert (account.email, account.pending_email) == ("oud@example.nl", "nieuw@example.nl")
    path = confirm_path("nieuw@example.nl")
    assert (
        "Bevestig je nieuwe e-mailadres" in OutboxMessage.objects.get(to="nieuw@example.nl").subject
    )

    # a mail scanner (or the member) opening the link twice changes nothing
    assert Client().get(path).status_code == 200
    assert "nieuw@example.nl" in Client().get(path).content.decode()
    account.refresh_from_db()
    assert account.email == "oud@example.nl"

    done = Client().post(path, {"once": once()})
    assert "Je e-mailadres is gewijzigd" in done.content.decode()
    account.refresh_from_db()
    assert (account.email, account.pending_email, account.email_verified) == (
        "nieuw@example.nl",
        "",
        True,
    )
    told = OutboxMessage.objects.get(to="oud@example.nl", kind="kb.email_changed")
    assert "gewijzigd in n…@example.nl" in told.text_body
    assert AccountEvent.objects.filter(event="email.changed", account_id=account.pk).exists()

    # used once: a second POST (another form) finds the link dead
    again = Client().post(path, {"once": once()})
    assert again.status_code == 410 and "Deze link werkt niet meer" in again.content.decode()


def test_the_confirmation_link_expires_with_the_activation_lifetime() -> None:
    account = active_account("e.b.tester", "oud@example.nl")
    self_service.email_change_request(account=account, email="nieuw@example.nl", actor="lid:x")
    path = confirm_path("nieuw@example.nl")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=24, seconds=1), tick=False):
        assert Client().get(path).status_code == 410
        assert Client().post(path, {"once": once()}).status_code == 410
    account.refresh_from_db()
    assert account.email == "oud@example.nl"
    with time_machine.travel(timezone.now() + dt.timedelta(hours=23, minutes=59), tick=False):
        assert Client().post(path, {"once": once()}).status_code == 200
    account.refresh_from_db()
    assert account.email == "nieuw@example.nl"


def test_a_newer_request_kills_the_older_link_and_a_double_click_mails_once() -> None:
    account = active_account("e.b.tester", "oud@example.nl")
    client = signed_in()
    key = once()
    for _ in range(2):  # a double click: the same form twice
        client.post("/kb/account/e-mail/", {"email": "eerst@example.nl", "once": key})
    assert OutboxMessage.objects.filter(kind="kb.email_change").count() == 1
    first = confirm_path("eerst@example.nl")
    client.post("/kb/account/e-mail/", {"email": "daarna@example.nl", "once": once()})
    assert Client().get(first).status_code == 410
    Client().post(confirm_path("daarna@example.nl"), {"once": once()})
    account.refresh_from_db()
    assert account.email == "daarna@example.nl"


def test_an_e_mail_change_is_refused_in_dutch_when_unchanged_invalid_or_too_often() -> None:
    account = active_account("e.b.tester", "oud@example.nl")
    client = signed_in()
    same = client.post("/kb/account/e-mail/", {"email": "OUD@example.nl", "once": once()})
    assert "Dit is al het e-mailadres van het inlogaccount." in same.content.decode()
    bad = client.post("/kb/account/e-mail/", {"email": "geen-adres", "once": once()})
    assert bad.status_code == 400 and 'value="geen-adres"' in bad.content.decode()
    for n in range(3):
        self_service.email_change_request(account=account, email=f"{n}@example.nl", actor="t")
    limited = client.post("/kb/account/e-mail/", {"email": "4@example.nl", "once": once()})
    assert "Probeer het over" in limited.content.decode()


# --- username --------------------------------------------------------------------------------


def test_a_changed_username_is_held_back_for_others_and_free_after_the_quarantine() -> None:
    account = active_account("e.b.tester")
    client = signed_in()
    response = client.post(
        "/kb/account/gebruikersnaam/", {"username": "Lezer.Nieuw", "once": once()}
    )
    assert response["Location"] == "/kb/account/"
    assert "Log voortaan in met lezer.nieuw" in client.get("/kb/account/").content.decode()
    account.refresh_from_db()
    assert account.username == "lezer.nieuw"
    assert "lezer.nieuw" in mailed(account.email, "kb.username_changed")

    # nobody else gets the old name ...
    taken = Client().post("/kb/aanmelden/", {"username": "e.b.tester", "email": "x@example.nl"})
    assert "al in gebruik" in taken.content.decode()
    # ... until the quarantine (30 days) is over
    with time_machine.travel(timezone.now() + dt.timedelta(days=30, seconds=1), tick=False):
        Client().post("/kb/aanmelden/", {"username": "e.b.tester", "email": "x@example.nl"})
    assert LoginAccount.objects.filter(username="e.b.tester", email="x@example.nl").exists()


def test_the_member_may_take_their_own_old_name_back() -> None:
    account = active_account("e.b.tester")
    self_service.username_change(account=account, username="tijdelijk", ip=None)
    self_service.username_change(account=account, username="e.b.tester", ip=None)
    assert list(HeldUsername.objects.values_list("username", flat=True)) == ["tijdelijk"]


def test_a_username_no_counter_can_hand_out_and_not_someone_elses() -> None:
    active_account("e.b.tester")
    active_account("bezet")
    client = signed_in()
    digits = client.post(
        "/kb/account/gebruikersnaam/", {"username": "25280000000017", "once": once()}
    )
    assert "minstens één letter" in digits.content.decode()
    assert digits.status_code == 400 and 'value="25280000000017"' in digits.content.decode()
    taken = client.post("/kb/account/gebruikersnaam/", {"username": "bezet", "once": once()})
    assert "al in gebruik" in taken.content.decode()


def test_a_counter_number_held_back_gets_the_next_counter_name() -> None:
    HeldUsername.objects.create(
        username="25280000000017",
        account_id=uuid.uuid4(),
        reason="verwijderd",
        held_until=timezone.now() + dt.timedelta(days=1),
    )
    account = account_create(
        username="25280000000017", email="a@example.nl", origin="balie", actor="balie"
    )
    assert account.username == "25280000000017-2"
    assert interface.is_counter_username(account.username, number="25280000000017")


# --- password and sessions -------------------------------------------------------------------


def test_a_password_change_asks_the_current_one_and_ends_every_other_session_and_token() -> None:
    account = active_account("e.b.tester")
    here, elsewhere = signed_in(), signed_in()
    tokens_of(account)

    wrong = here.post(
        "/kb/account/wachtwoord/",
        {"current": "fout", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "once": once()},
    )
    assert wrong.status_code == 400 and "Dit wachtwoord klopt niet." in wrong.content.decode()
    assert AccountEvent.objects.filter(event="password.check_failed").count() == 1

    done = here.post(
        "/kb/account/wachtwoord/",
        {"current": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "once": once()},
    )
    assert done["Location"] == "/kb/account/"
    assert "Je wachtwoord is gewijzigd" in here.get("/kb/account/").content.decode()
    assert elsewhere.get("/kb/account/").status_code == 302  # logged out
    assert not has_tokens(account)
    assert "gewijzigd" in mailed(account.email, "kb.password_changed")


def test_a_password_reset_by_mail_ends_every_session_and_token_too() -> None:
    account = active_account("e.b.tester")
    elsewhere = signed_in()
    tokens_of(account)
    Client().post("/kb/wachtwoord-vergeten/", {"username": "e.b.tester"})
    link = re.search(
        r"https?://[^/\s]+(/kb/wachtwoord-herstellen/\S+)", mailed(account.email, "kb.reset")
    )
    assert link
    browser = Client()
    browser.post(link.group(1), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert browser.get("/kb/account/").status_code == 200  # signed in by the link
    assert elsewhere.get("/kb/account/").status_code == 302
    assert not has_tokens(account)


def test_log_out_everywhere_is_a_button_of_its_own() -> None:
    account = active_account("e.b.tester")
    here, elsewhere = signed_in(), signed_in()
    tokens_of(account)
    page = here.post("/kb/account/overal-uitloggen/")
    assert "Je bent overal uitgelogd" in page.content.decode()
    assert here.get("/kb/account/").status_code == 302
    assert elsewhere.get("/kb/account/").status_code == 302
    assert not has_tokens(account)
    assert signed_in().get("/kb/account/").status_code == 200  # a new sign-in works


# --- forgot password -------------------------------------------------------------------------


def test_forgot_password_takes_the_username_or_the_e_mail_address_with_one_answer() -> None:
    active_account("e.b.tester", "lezer@example.nl")
    answers = {}
    for typed in ["e.b.tester", "Lezer@Example.nl", "niemand", "niemand@example.nl"]:
        response = Client().post("/kb/wachtwoord-vergeten/", {"username": typed})
        answers[typed] = re.sub(
            r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode()
        )
    assert len(set(answers.values())) == 1, "the answer tells which accounts exist"
    assert OutboxMessage.objects.filter(to="lezer@example.nl", kind="kb.reset").count() == 2


# --- download and delete ---------------------------------------------------------------------


def test_download_my_data_as_json_and_as_a_page() -> None:
    account = active_account("e.b.tester")
    LinkedMembership.objects.create(
        account=account,
        library_code="bind",
        library_name="Bibliotheken Bind",
        customer_number="25280000000017",
        subscription_code="0141",
        digital_rights="compleet",
        valid_through=dt.date(2027, 5, 31),
        state="actief",
    )
    client = signed_in()
    download = client.get("/kb/account/gegevens.json")
    assert download["Content-Type"] == "application/json"
    assert download["Content-Disposition"].startswith('attachment; filename="inlogaccount-')
    data = json.loads(download.content)
    assert data["inlogaccount"]["gebruikersnaam"] == "e.b.tester"
    assert data["lidmaatschappen"][0]["geldig t/m"] == "2027-05-31"
    assert data["inlogmomenten"][0]["apparaat"] == "Chrome Mobile op Android"
    assert "login.succeeded" in [e["gebeurtenis"] for e in data["beveiligingslogboek"]]
    page = client.get("/kb/account/gegevens/").content.decode()
    assert "25280000000017" in page and "Chrome Mobile op Android" in page


def test_deleting_the_account_needs_the_password_and_the_library_unlinks_it(
    balie,
    branch_5280,
    digital_only,  # type: ignore[no-untyped-def]
) -> None:
    from bieb.customers.services import customer_register
    from tests.customers.factories import details

    registration = customer_register(
        actor=balie,
        branch=branch_5280,
        details=details(email="e.b.tester@example.nl"),
        subscription_type=digital_only,
    )
    customer = registration.customer
    account = LoginAccount.objects.get(pk=customer.login_account_id)
    account.set_password(PASSWORD)
    account.state = "actief"
    account.email_verified = True
    account.activation_deadline = None
    account.save()
    client = signed_in(account.username)

    wrong = client.post("/kb/account/verwijderen/", {"password": "fout", "once": once()})
    assert wrong.status_code == 400 and "Dit wachtwoord klopt niet." in wrong.content.decode()
    key = once()
    gone = client.post("/kb/account/verwijderen/", {"password": PASSWORD, "once": key})
    assert "Je inlogaccount is verwijderd" in gone.content.decode()
    # a second click of the same form: the same answer
    again = client.post("/kb/account/verwijderen/", {"password": PASSWORD, "once": key})
    assert "Je inlogaccount is verwijderd" in again.content.decode()

    assert not LoginAccount.objects.filter(pk=account.pk).exists()
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.login_account_id is None and not customer.login_account_lapsed
    audit = AuditEvent.objects.get(action="customer.login_account_deleted")
    assert audit.data["reason"] == "deleted"
    assert "Bibliotheken Bind" in mailed("e.b.tester@example.nl", "kb.account_deleted")
    held = HeldUsername.objects.get(username=customer.number)
    assert held.held_until > timezone.now() + dt.timedelta(days=29)
    assert client.get("/kb/account/").status_code == 302


# --- the counter's request through the interface ---------------------------------------------


def test_the_interface_starts_a_confirmation_and_never_sets_the_address() -> None:
    account = active_account("e.b.tester", "oud@example.nl")
    status = interface.account_email_change_request(
        account_id=account.pk, email="nieuw@example.nl", actor="balie"
    )
    assert (status.email, status.pending_email) == ("oud@example.nl", "nieuw@example.nl")
    assert AccountEvent.objects.get(event="email.change_requested").actor == "balie"


def test_for_a_waiting_account_the_activation_link_goes_to_the_new_address() -> None:
    waiting = account_create(
        username="wachter", email="typo@exmaple.nl", origin="online", actor="t"
    )
    old_link = mailed("typo@exmaple.nl", "kb.activation")
    status = interface.account_email_change_request(
        account_id=waiting.pk, email="goed@example.nl", actor="balie"
    )
    assert (status.email, status.state) == ("goed@example.nl", "wacht")
    assert "/kb/activeren/" in mailed("goed@example.nl", "kb.activation")
    old = re.search(r"https?://[^/\s]+(/kb/activeren/\S+)", old_link)
    assert old and Client().get(old.group(1)).status_code == 410
