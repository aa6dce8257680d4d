"""The login service: accounts, activation links, expiry, purge, linking, login throttling."""

import datetime as dt
import re
import threading
import uuid
from dataclasses import replace

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from bieb.kb import interface
from bieb.kb.jobs import kb_purge_expired_accounts
from bieb.kb.models import (
    AccountEvent,
    AccountState,
    LinkCode,
    LinkedMembership,
    LoginAccount,
    OIDCAccessToken,
    OIDCApplication,
    OIDCGrant,
    OIDCIDToken,
)
from bieb.kb.services import (
    MembershipData,
    account_authenticate,
    account_create,
    accounts_purge_expired,
)
from bieb.mail.models import OutboxMessage
from tests.customers.factories import mailed_link_code

pytestmark = pytest.mark.django_db

PASSWORD = "Leeslamp-Duinpan-42"
MEMBERSHIP = MembershipData(
    library_code="bind",
    library_name="Bibliotheken Bind",
    customer_number="25280000000017",
    subscription_code="0141",
    digital_rights="compleet",
    valid_through=dt.date(2025, 5, 31),
)


def link_in_last_mail(to: str) -> str:
    message = OutboxMessage.objects.filter(to=to).latest("id")
    match = re.search(r"https?://\S+/kb/activeren/\S+", message.text_body)
    assert match, message.text_body
    return match.group(0).split("/kb/", 1)[1]


def field_errors(html: str, field: str) -> list[str]:
    """The messages in the error list of one field (the list its input refers to)."""
    assert f'aria-describedby="id_{field}_helptext id_{field}_error"' in html or (
        f'aria-describedby="id_{field}_error"' in html
    ), html
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    assert match, html
    return [m.strip() for m in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def make_account(email: str = "lezer@example.nl") -> interface.AccountStatus:
    return interface.create_account(email=email, membership=MEMBERSHIP, actor="balie")


def test_a_counter_account_waits_for_activation_and_mails_the_link() -> None:
    status = make_account()
    assert status.username == "25280000000017"
    assert status.state == "wacht"
    assert status.label.startswith("wacht op activering tot ")
    mail = OutboxMessage.objects.get(to="lezer@example.nl")
    assert "25280000000017" in mail.text_body
    assert "24 uur" in mail.text_body
    deadline = timezone.localtime(status.activation_deadline)
    assert deadline.strftime("%d-%m-%Y om %H:%M") in mail.text_body
    assert "/kb/activeren/" in mail.html_body
    assert AccountEvent.objects.filter(event="account.created").count() == 1
    linked = LinkedMembership.objects.get()
    assert (linked.library_code, linked.digital_rights) == ("bind", "compleet")


def test_opening_the_link_does_nothing_and_posting_activates_once(client: Client) -> None:
    make_account()
    path = "/kb/" + link_in_last_mail("lezer@example.nl")
    page = client.get(path)
    assert page.status_code == 200
    assert "Kies je wachtwoord" in page.content.decode()
    assert "10 tekens" in page.content.decode()  # the rules, shown before typing
    client.get(path)
    assert LoginAccount.objects.get().state == AccountState.WAITING

    mismatch = client.post(path, {"password1": PASSWORD, "password2": PASSWORD + "x"})
    assert "niet gelijk" in mismatch.content.decode()
    for weak in ("kort", "Boekkast7"):  # 9 characters: one short of the rule
        page = client.post(path, {"password1": weak, "password2": weak})
        assert field_errors(page.content.decode(), "password1") == [
            "Je wachtwoord is te kort: gebruik minstens 10 tekens."
        ]
        assert LoginAccount.objects.get().state == AccountState.WAITING
    long_enough = client.post(path, {"password1": "1234567890", "password2": "1234567890"})
    assert "te kort" not in " ".join(field_errors(long_enough.content.decode(), "password1"))

    session = client.session  # a session from before the link was used
    session["gezien"] = "ja"
    session.save()
    done = client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
    # on, signed in, to the Online Bibliotheek's login (which then asks nothing)
    assert (done.status_code, done["Location"]) == (302, "/online/inloggen/")
    assert "Mijn inlogaccount" in client.get("/kb/").content.decode()
    assert client.cookies["sessionid"].value != session.session_key  # a new session id
    assert AccountEvent.objects.filter(event="login.succeeded").count() == 1
    account = LoginAccount.objects.get()
    assert (account.state, account.email_verified) == (AccountState.ACTIVE, True)
    assert account.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert interface.account_status(username=account.username).label == "actief"

    again = client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
    assert again.status_code == 410
    assert "werkt niet meer" in again.content.decode()


def test_the_link_stops_exactly_at_its_deadline(client: Client) -> None:
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        make_account()
        path = "/kb/" + link_in_last_mail("lezer@example.nl")
    with time_machine.travel(start + dt.timedelta(hours=24, seconds=-1), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=24), tick=False):
        expired = client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
        assert expired.status_code == 410
        assert "Vraag de bibliotheek" in expired.content.decode()
        status = interface.account_status(username=MEMBERSHIP.customer_number)
        assert status.label == "verlopen — niet geactiveerd"
    with time_machine.travel(start + dt.timedelta(hours=24, seconds=-1), tick=False):
        ok = client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
        assert ok.status_code == 302
        assert LoginAccount.objects.get().state == AccountState.ACTIVE


def test_resend_kills_the_old_link_and_has_a_cooldown(client: Client) -> None:
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        made = make_account()
        assert made.id is not None
        old = "/kb/" + link_in_last_mail("lezer@example.nl")
        with pytest.raises(ValidationError, match="Wacht een minuut"):
            interface.resend_activation(account_id=made.id, actor="balie")
    with time_machine.travel(start + dt.timedelta(minutes=2), tick=False):
        status = interface.resend_activation(account_id=made.id, actor="balie")
        new = "/kb/" + link_in_last_mail("lezer@example.nl")
        assert new != old
        assert status.activation_deadline == start + dt.timedelta(minutes=2, hours=24)
        assert client.get(old).status_code == 410
        assert client.get(new).status_code == 200


def test_purge_removes_only_expired_never_activated_accounts(client: Client) -> None:
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        make_account()
        active = account_create(
            username="actieve.lezer", email="a@example.nl", origin="online", actor="t"
        )
        path = "/kb/" + link_in_last_mail("a@example.nl")
        client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
        fresh = account_create(username="nieuw", email="n@example.nl", origin="online", actor="t")
    with time_machine.travel(start + dt.timedelta(hours=23), tick=False):
        assert accounts_purge_expired().deleted == 0
    with time_machine.travel(start + dt.timedelta(hours=25), tick=False):
        LoginAccount.objects.filter(pk=fresh.pk).update(
            activation_deadline=timezone.now() + dt.timedelta(hours=1)
        )
        assert accounts_purge_expired(batch_size=1).deleted == 1
    remaining = set(LoginAccount.objects.values_list("username", flat=True))
    assert remaining == {"actieve.lezer", "nieuw"}
    assert LoginAccount.objects.get(pk=active.pk).state == AccountState.ACTIVE
    assert AccountEvent.objects.filter(event="account.purged").count() == 1
    # the username is free again: a new account can be generated
    assert make_account().state == "wacht"


@pytest.mark.parametrize("batch_size", [-5, 0, 1, 3, 10**9])
def test_no_setting_of_the_purge_deletes_an_active_account(batch_size: int) -> None:
    for i in range(3):
        account = account_create(
            username=f"lid{i:02d}", email=f"l{i}@example.nl", origin="online", actor="t"
        )
        LoginAccount.objects.filter(pk=account.pk).update(
            state=AccountState.ACTIVE,
            activated_at=timezone.now(),
            activation_deadline=timezone.now() - dt.timedelta(days=30),
        )
    LoginAccount.objects.filter(username="lid02").update(state=AccountState.DISABLED)
    # once activated, waiting again with a deadline that passed: still never purged
    again = account_create(username="lid03", email="l3@example.nl", origin="online", actor="t")
    LoginAccount.objects.filter(pk=again.pk).update(
        activated_at=timezone.now() - dt.timedelta(days=60),
        activation_deadline=timezone.now() - dt.timedelta(days=30),
    )
    for max_batches in (None, 1, 100):
        result = accounts_purge_expired(batch_size=batch_size, max_batches=max_batches)
        assert (result.deleted, result.batches) == (0, 0)
    assert LoginAccount.objects.count() == 4
    assert not AccountEvent.objects.filter(event="account.purged").exists()


@pytest.mark.parametrize("state", [AccountState.ACTIVE, AccountState.DISABLED])
def test_the_purge_keeps_an_active_or_disabled_account_that_has_no_activation_time(
    state: str,
) -> None:
    """The state is a condition of its own: an account that is active or disabled is never
    purged, also when it has no activation time (made active by support or an import) and an
    old deadline. Both paths: one SQL statement on PostgreSQL, the ORM elsewhere."""
    kept = expired_account("zonder.tijd", minutes_ago=60 * 24 * 30)
    LoginAccount.objects.filter(pk=kept.pk).update(state=state, activated_at=None)
    doomed = expired_account("wel.weg")
    result = accounts_purge_expired()
    assert result.deleted == 1
    assert list(LoginAccount.objects.values_list("username", "state")) == [("zonder.tijd", state)]
    assert not LoginAccount.objects.filter(pk=doomed.pk).exists()
    assert list(
        AccountEvent.objects.filter(event="account.purged").values_list("username", flat=True)
    ) == ["wel.weg"]


def expired_account(
    username: str, membership: MembershipData | None = None, *, minutes_ago: int = 10
) -> LoginAccount:
    account = account_create(
        username=username,
        email=f"{username}@example.nl",
        origin="balie" if membership else "online",
        actor="t",
        membership=membership,
    )
    LoginAccount.objects.filter(pk=account.pk).update(
        activation_deadline=timezone.now() - dt.timedelta(minutes=minutes_ago)
    )
    return account


def test_the_purge_takes_memberships_and_tokens_along_and_logs_each_account() -> None:
    purge_with_tokens()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_purge_takes_tokens_along_also_when_its_batches_commit() -> None:
    """Not inside a test's transaction: the foreign key check that sends a batch to Django's
    cascade runs at the batch's own commit."""
    purge_with_tokens()


def purge_with_tokens() -> None:
    app = OIDCApplication.objects.create(
        name="Test",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://example.nl/terug/",
    )
    in_an_hour = timezone.now() + dt.timedelta(hours=1)
    kept = account_create(
        username="blijver", email="b@example.nl", origin="online", actor="t", membership=MEMBERSHIP
    )
    LoginAccount.objects.filter(pk=kept.pk).update(
        state=AccountState.ACTIVE, activated_at=timezone.now(), activation_deadline=None
    )
    OIDCAccessToken.objects.create(user=kept, token="a", application=app, expires=in_an_hour)
    gone = [
        expired_account(
            f"2528000000{i:03d}",
            replace(MEMBERSHIP, customer_number=f"2528000000{i:03d}"),
        )
        for i in range(5)
    ]
    # Not something a never-activated account can get, but if it had: it goes too (in the
    # last batch, after the others went the fast way).
    with_token = expired_account("met.token", minutes_ago=1)
    id_token = OIDCIDToken.objects.create(
        user=with_token, application=app, expires=in_an_hour, jti=uuid.uuid4()
    )
    OIDCAccessToken.objects.create(
        user=with_token, token="b", application=app, expires=in_an_hour, id_token=id_token
    )
    OIDCGrant.objects.create(
        user=with_token, code="c", application=app, expires=in_an_hour, redirect_uri="https://x/"
    )

    result = accounts_purge_expired(batch_size=2)

    assert (result.deleted, result.batches) == (6, 3)
    assert 0 < result.longest < 60
    assert list(LoginAccount.objects.values_list("username", flat=True)) == ["blijver"]
    assert list(LinkedMembership.objects.values_list("account_id", flat=True)) == [kept.pk]
    assert list(OIDCAccessToken.objects.values_list("user_id", flat=True)) == [kept.pk]
    assert not OIDCIDToken.objects.exists() and not OIDCGrant.objects.exists()
    purged = AccountEvent.objects.filter(event="account.purged")
    assert {(e.account_id, e.username) for e in purged} == {
        (a.pk, a.username) for a in [*gone, with_token]
    }
    assert kb_purge_expired_accounts() == {"purged": 0, "batches": 0, "longest_batch_ms": 0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_purge_skips_an_account_being_changed_and_takes_the_others() -> None:
    accounts = [expired_account(f"wachter{i}") for i in range(3)]
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                LoginAccount.objects.select_for_update().get(pk=accounts[1].pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10)
        result = accounts_purge_expired(batch_size=1)
    finally:
        release.set()
        thread.join(10)
    assert result.deleted == 2
    assert list(LoginAccount.objects.values_list("username", flat=True)) == ["wachter1"]
    assert accounts_purge_expired().deleted == 1


def request_code(username: str, library_code: str = "bind") -> str:
    return interface.request_link_code(
        username=username,
        library_code=library_code,
        library_name="Bibliotheken Bind",
        actor="balie",
    )


def test_linking_needs_the_holders_code_from_their_own_mail_and_tells_them() -> None:
    account_create(username="verhuizer", email="v@example.nl", origin="online", actor="t")
    # unknown and not activated: the same answer, and no mail
    assert request_code("bestaat-niet") == request_code("verhuizer")
    assert not OutboxMessage.objects.filter(kind="kb.link_code").exists()
    with pytest.raises(ValidationError, match="code klopt niet"):
        interface.link_account(
            username="verhuizer", code="123456", membership=MEMBERSHIP, actor="balie"
        )
    LoginAccount.objects.filter(username="verhuizer").update(
        state=AccountState.ACTIVE, activated_at=timezone.now()
    )
    request_code("verhuizer", library_code="oost")  # another library's code is no use here
    oost_code = mailed_link_code("v@example.nl")
    with pytest.raises(ValidationError, match="code klopt niet"):
        interface.link_account(
            username="verhuizer", code=oost_code, membership=MEMBERSHIP, actor="balie"
        )
    request_code("verhuizer")
    code = mailed_link_code("v@example.nl")
    assert code not in str(LinkCode.objects.values_list("code_hash", flat=True))
    status = interface.link_account(
        username="VERHUIZER", code=code, membership=MEMBERSHIP, actor="balie"
    )
    assert status.state == "actief"
    linked_mails = OutboxMessage.objects.filter(kind="kb.linked").count()
    # The same link again (a retry whose answer was lost): the link it made is the answer, and
    # nothing is mailed twice ...
    again = interface.link_account(
        username="verhuizer", code=code, membership=MEMBERSHIP, actor="balie"
    )
    assert again.id == status.id
    assert OutboxMessage.objects.filter(kind="kb.linked").count() == linked_mails
    # ... but the code links once: not another membership.
    other = replace(MEMBERSHIP, customer_number="25280000000099")
    with pytest.raises(ValidationError, match="code klopt niet"):  # once
        interface.link_account(username="verhuizer", code=code, membership=other, actor="balie")
    assert LinkedMembership.objects.get().account.username == "verhuizer"
    mail = OutboxMessage.objects.filter(to="v@example.nl").latest("id")
    assert "Bibliotheken Bind" in mail.subject
    assert AccountEvent.objects.filter(event="account.linked").exists()


def test_forget_deletes_a_never_activated_account_and_a_new_one_can_be_made() -> None:
    made = make_account()
    assert made.id is not None
    interface.forget_account(
        account_id=made.id,
        library_code="bind",
        customer_number=MEMBERSHIP.customer_number,
        actor="balie",
    )
    assert not LoginAccount.objects.exists()
    assert AccountEvent.objects.filter(event="account.forgotten").exists()
    assert make_account().state == "wacht"


def test_login_is_the_same_answer_for_unknown_and_wrong_and_waits_after_five(
    client: Client,
) -> None:
    account_create(username="inlogger", email="i@example.nl", origin="online", actor="t")
    account = LoginAccount.objects.get(username="inlogger")
    account.set_password(PASSWORD)
    account.state = AccountState.ACTIVE
    account.save()

    unknown = client.post("/kb/inloggen/", {"username": "niemand", "password": PASSWORD})
    wrong = client.post("/kb/inloggen/", {"username": "inlogger", "password": "fout"})
    assert "Gebruikersnaam of wachtwoord klopt niet" in unknown.content.decode()
    assert "Gebruikersnaam of wachtwoord klopt niet" in wrong.content.decode()

    ok = client.post("/kb/inloggen/", {"username": "Inlogger", "password": PASSWORD})
    assert ok.status_code == 302
    assert "inlogger" in client.get("/kb/").content.decode()

    for _ in range(5):  # from the browser's own address, 127.0.0.1
        with pytest.raises(ValidationError):
            account_authenticate(username="inlogger", password="fout", ip="127.0.0.1")
    locked = client.post("/kb/inloggen/", {"username": "inlogger", "password": PASSWORD})
    assert "Te veel mislukte pogingen. Wacht 2 seconden" in locked.content.decode()
    assert AccountEvent.objects.filter(event="login.locked").exists()
    assert AccountEvent.objects.filter(event="login.failed").count() >= 6
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert account_authenticate(username="inlogger", password=PASSWORD, ip=None).pk


def test_forgot_pages_answer_the_same_whether_or_not_the_account_exists(client: Client) -> None:
    account_create(username="vergeetachtig", email="f@example.nl", origin="online", actor="t")
    LoginAccount.objects.filter(username="vergeetachtig").update(state=AccountState.ACTIVE)
    known = client.post("/kb/wachtwoord-vergeten/", {"username": "vergeetachtig"})
    unknown = client.post("/kb/wachtwoord-vergeten/", {"username": "onbekend"})
    assert known.content == unknown.content
    known = client.post("/kb/gebruikersnaam-vergeten/", {"email": "f@example.nl"})
    unknown = client.post("/kb/gebruikersnaam-vergeten/", {"email": "x@example.nl"})
    assert known.content == unknown.content
    subjects = list(
        OutboxMessage.objects.filter(to="f@example.nl").values_list("subject", flat=True)
    )
    assert "Nieuw wachtwoord voor je inlogaccount" in subjects
    assert "Je gebruikersnaam voor de Online Bibliotheek" in subjects


def test_signup_online_and_back_only_to_allowed_addresses(client: Client) -> None:
    page = client.get("/kb/aanmelden/?next=/word-lid/bind/")
    assert "Gebruikersnaam" in page.content.decode() and "E-mailadres" in page.content.decode()
    done = client.post(
        "/kb/aanmelden/",
        {"username": "nieuwlid", "email": "nl@example.nl", "next": "/word-lid/bind/"},
    )
    assert "Controleer je mail" in done.content.decode()
    path = "/kb/" + link_in_last_mail("nl@example.nl")
    assert "next=%2Fword-lid%2Fbind%2F" in path
    back = client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
    assert back.status_code == 302 and back["Location"] == "/word-lid/bind/"

    evil = client.post(
        "/kb/aanmelden/",
        {"username": "tweedelid", "email": "t@example.nl", "next": "https://evil.example/"},
    )
    assert "Controleer je mail" in evil.content.decode()
    assert "evil" not in OutboxMessage.objects.filter(to="t@example.nl").get().text_body

    taken = client.post("/kb/aanmelden/", {"username": "NieuwLid", "email": "x@example.nl"})
    assert "al in gebruik" in taken.content.decode()
    assert 'value="NieuwLid"' in taken.content.decode()  # nothing typed is lost


def test_a_reset_link_sets_a_new_password_once(client: Client) -> None:
    account_create(username="herstel", email="h@example.nl", origin="online", actor="t")
    account = LoginAccount.objects.get(username="herstel")
    account.set_password(PASSWORD)
    account.state = AccountState.ACTIVE
    account.save()
    client.post("/kb/wachtwoord-vergeten/", {"username": "herstel"})
    mail = OutboxMessage.objects.filter(to="h@example.nl", kind="kb.reset").get()
    match = re.search(r"https?://\S+(/kb/wachtwoord-herstellen/\S+)", mail.text_body)
    assert match, mail.text_body
    path = match.group(1)

    assert "Kies een nieuw wachtwoord" in client.get(path).content.decode()
    assert account_authenticate(username="herstel", password=PASSWORD, ip=None)
    new = "Nieuwe-Leeslamp-77"
    assert client.get("/kb/").status_code == 302  # not signed in
    done = client.post(path, {"password1": new, "password2": new})
    assert "Je wachtwoord is gewijzigd" in done.content.decode()
    assert "Je bent ingelogd als <strong>herstel</strong>" in done.content.decode()
    assert "herstel" in client.get("/kb/").content.decode()  # signed in, as after activating
    assert account_authenticate(username="herstel", password=new, ip=None)
    with pytest.raises(ValidationError):
        account_authenticate(username="herstel", password=PASSWORD, ip=None)
    assert client.post(path, {"password1": new, "password2": new}).status_code == 410
