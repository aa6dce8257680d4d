"""The KB's API for a library system: accounts, link codes and memberships, each with its
happy path and its refusals as problem details in Dutch."""

import datetime as dt
import uuid

import pytest
import time_machine

from bieb.kb.models import AccountEvent, LinkedMembership, LoginAccount
from bieb.kb.services import LINK_CODE_SENT, LINK_CODE_WRONG
from bieb.mail.models import OutboxMessage
from tests.customers.factories import mailed_link_code
from tests.kb.api.conftest import Caller, activate, membership, problem

pytestmark = pytest.mark.django_db

NUMBER = "25280000000017"


def test_create_makes_a_waiting_account_named_after_the_customer_number(bind_api: Caller) -> None:
    response = bind_api.create(NUMBER, email="klant@example.nl")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == NUMBER
    assert body["email"] == "klant@example.nl"
    assert body["state"] == "wacht"
    assert body["label"].startswith("wacht op activering tot ")
    assert body["activation_deadline"]
    account = LoginAccount.objects.get(pk=body["id"])
    assert list(account.memberships.values_list("library_code", "customer_number")) == [
        ("bind", NUMBER)
    ]
    assert OutboxMessage.objects.filter(to="klant@example.nl", kind="kb.activation").count() == 1
    # The security log names the library system and its staff member.
    event = AccountEvent.objects.get(event="account.created")
    assert event.actor == "api:wise-bind:balie"


def test_create_takes_the_account_id_the_library_chose(bind_api: Caller) -> None:
    chosen = uuid.uuid4()
    response = bind_api.call(
        "POST",
        "/libraries/bind/accounts",
        {"email": "klant@example.nl", "account_id": str(chosen), "membership": membership()},
        headers={"Idempotency-Key": "k-1"},
    )
    assert response.json()["id"] == str(chosen)


def test_a_retried_create_with_the_same_key_makes_one_account_and_one_mail(
    bind_api: Caller,
) -> None:
    first = bind_api.create(NUMBER, key="registratie-42")
    again = bind_api.create(NUMBER, key="registratie-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert LoginAccount.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="kb.activation").count() == 1


def test_the_same_key_with_another_body_is_refused(bind_api: Caller) -> None:
    bind_api.create(NUMBER, key="registratie-42")
    response = bind_api.create(NUMBER, email="ander@example.nl", key="registratie-42")
    body = problem(response, 422)
    assert body["type"] == "urn:bieb:kb-api:idempotency-key-reused"
    assert "al gebruikt voor een ander verzoek" in body["detail"]
    assert LoginAccount.objects.count() == 1


def test_a_create_without_a_key_is_refused(bind_api: Caller) -> None:
    response = bind_api.call(
        "POST", "/libraries/bind/accounts", {"email": "k@example.nl", "membership": membership()}
    )
    body = problem(response, 400)
    assert body["type"] == "urn:bieb:kb-api:idempotency-key-missing"
    assert not LoginAccount.objects.exists()


def test_a_failed_create_leaves_its_key_free_for_the_retry(bind_api: Caller) -> None:
    bad = bind_api.create("x", key="k-2")  # too short for a username
    body = problem(bad, 422)
    assert body["errors"] == [
        {
            "field": "username",
            "detail": "Een gebruikersnaam heeft 4 tot 80 tekens: kleine letters, cijfers, punt, "
            "streepje of liggend streepje.",
        }
    ]
    response = bind_api.call(
        "POST",
        "/libraries/bind/accounts",
        {"email": "klant@example.nl", "membership": membership("x")},
        headers={"Idempotency-Key": "k-2"},
    )
    problem(response, 422)  # the same request again: run again, refused again


def test_invalid_fields_are_422_with_dutch_messages_per_field(bind_api: Caller) -> None:
    response = bind_api.call(
        "POST",
        "/libraries/bind/accounts",
        {"email": "geen-adres", "membership": membership()},
        headers={"Idempotency-Key": "k-3"},
    )
    body = problem(response, 422)
    assert body["errors"] == [
        {"field": "email", "detail": "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl."}
    ]
    response = bind_api.call(
        "POST",
        "/libraries/bind/accounts",
        {"email": "k@example.nl", "membership": {"customer_number": NUMBER}},
        headers={"Idempotency-Key": "k-4"},
    )
    body = problem(response, 422)
    fields = {error["field"]: error["detail"] for error in body["errors"]}
    assert fields["membership.subscription_code"] == "Dit veld is verplicht."
    assert fields["membership.library_name"] == "Dit veld is verplicht."


def test_status_of_many_usernames_and_ids_at_once(bind_api: Caller, oost_api: Caller) -> None:
    waiting = bind_api.create("25280000000001").json()
    active = bind_api.create("25280000000002", email="actief@example.nl").json()
    activate(active["username"])
    expired = bind_api.create("25280000000003").json()
    oost_api.call(
        "POST",
        "/libraries/oost/accounts",
        {"email": "o@example.nl", "membership": membership("21110000000001")},
        headers={"Idempotency-Key": "o-1"},
    )
    gone = uuid.uuid4()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=23)
    LoginAccount.objects.filter(pk=expired["id"]).update(
        activation_deadline=later - dt.timedelta(days=2)
    )
    response = bind_api.call(
        "POST",
        "/libraries/bind/accounts/status",
        {
            "usernames": ["25280000000002", "25280000000001", "onbekend", "21110000000001"],
            "account_ids": [waiting["id"], str(gone), expired["id"]],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(a["username"], a["state"]) for a in body["usernames"]] == [
        ("25280000000002", "actief"),
        ("25280000000001", "wacht"),
        ("onbekend", "verlopen"),
        ("21110000000001", "verlopen"),  # oost's customer: not told to bind
    ]
    assert body["usernames"][0]["email"] == "actief@example.nl"
    assert body["usernames"][0]["label"] == "actief"
    assert body["usernames"][3] == {
        "id": None,
        "username": "21110000000001",
        "email": "",
        "state": "verlopen",
        "label": "verlopen — niet geactiveerd",
        "activation_deadline": None,
        "pending_email": "",
    }
    assert [(a["id"], a["state"]) for a in body["account_ids"]] == [
        (waiting["id"], "wacht"),
        (str(gone), "verlopen"),
        (expired["id"], "verlopen"),
    ]
    assert body["account_ids"][1]["username"] == ""

    too_many = bind_api.call(
        "POST",
        "/libraries/bind/accounts/status",
        {"usernames": ["a"] * 300, "account_ids": [str(gone)] * 201},
    )
    assert "ten hoogste 500" in problem(too_many, 422)["detail"]


def test_resend_waits_a_minute_and_refuses_an_active_account(bind_api: Caller) -> None:
    account = bind_api.create(NUMBER).json()
    path = f"/libraries/bind/accounts/{account['id']}/activation-mail"
    response = bind_api.call("POST", path)
    body = problem(response, 429)
    assert body["detail"] == (
        "De activeringsmail is net verstuurd. Wacht een minuut voor u hem opnieuw verstuurt."
    )
    assert response["Retry-After"] == "60"
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)):
        response = bind_api.call("POST", path)
        assert response.status_code == 200, response.content
        assert response.json()["activation_deadline"] > account["activation_deadline"]
        assert OutboxMessage.objects.filter(kind="kb.activation").count() == 2
        activate(account["username"])
        assert problem(bind_api.call("POST", path), 409)["detail"] == (
            "Dit inlogaccount is al geactiveerd."
        )
    missing = bind_api.call("POST", f"/libraries/bind/accounts/{uuid.uuid4()}/activation-mail")
    assert "bestaat niet meer" in problem(missing, 404)["detail"]


def test_email_change_starts_the_confirmation(bind_api: Caller) -> None:
    account = bind_api.create(NUMBER, email="oud@example.nl").json()
    activate(account["username"])
    path = f"/libraries/bind/accounts/{account['id']}/email-change"
    response = bind_api.call("POST", path, {"email": "nieuw@example.nl"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["email"] == "oud@example.nl"  # until its holder confirms
    assert body["pending_email"] == "nieuw@example.nl"
    assert OutboxMessage.objects.filter(to="nieuw@example.nl", kind="kb.email_change").exists()
    same = bind_api.call("POST", path, {"email": "oud@example.nl"})
    assert problem(same, 422)["errors"] == [
        {"field": "email", "detail": "Dit is al het e-mailadres van het inlogaccount."}
    ]


def test_forget_deletes_a_never_activated_account_and_then_finds_nothing(
    bind_api: Caller,
) -> None:
    account = bind_api.create(NUMBER).json()
    path = f"/libraries/bind/accounts/{account['id']}/memberships/{NUMBER}"
    response = bind_api.call("DELETE", path)
    assert response.status_code == 200, response.content
    assert response.json() == {"deleted": True}
    assert not LoginAccount.objects.exists()
    problem(bind_api.call("DELETE", path), 404)


def test_forget_unlinks_an_active_account_and_keeps_it(bind_api: Caller) -> None:
    account = bind_api.create(NUMBER).json()
    activate(account["username"])
    path = f"/libraries/bind/accounts/{account['id']}/memberships/{NUMBER}"
    assert bind_api.call("DELETE", path).json() == {"deleted": False}
    assert LoginAccount.objects.filter(pk=account["id"]).exists()
    assert not LinkedMembership.objects.exists()


def test_forget_many_unlinks_only_the_librarys_own_links(
    bind_api: Caller, oost_api: Caller
) -> None:
    waiting = bind_api.create(NUMBER).json()
    active = bind_api.create("25280000000018").json()
    activate(active["username"])
    theirs = oost_api.call(
        "POST",
        "/libraries/oost/accounts",
        {"email": "oost@example.nl", "membership": membership("21110000000001")},
        headers={"Idempotency-Key": "o-forget"},
    ).json()
    links = [
        {"account_id": waiting["id"], "customer_number": NUMBER},
        {"account_id": active["id"], "customer_number": "25280000000018"},
        # Another library's waiting account, under a number of ours: not Bind's to forget.
        {"account_id": theirs["id"], "customer_number": "25280000000019"},
    ]
    response = bind_api.call("POST", "/libraries/bind/accounts/forget", {"links": links})
    assert response.status_code == 200, response.content
    assert response.json() == {"forgotten": 2, "deleted": 1}
    assert set(LoginAccount.objects.values_list("id", flat=True)) == {
        uuid.UUID(active["id"]),
        uuid.UUID(theirs["id"]),
    }
    assert list(LinkedMembership.objects.values_list("library_code", flat=True)) == ["oost"]
    # A retry finds nothing left to forget.
    again = bind_api.call("POST", "/libraries/bind/accounts/forget", {"links": links})
    assert again.json() == {"forgotten": 0, "deleted": 0}


def test_link_an_existing_account_with_the_mailed_code(bind_api: Caller, oost_api: Caller) -> None:
    created = oost_api.call(
        "POST",
        "/libraries/oost/accounts",
        {"email": "lid@example.nl", "membership": membership("21110000000001")},
        headers={"Idempotency-Key": "o-1"},
    ).json()
    activate(created["username"])
    asked = bind_api.call(
        "POST",
        "/libraries/bind/link-codes",
        {"username": created["username"], "library_name": "Bibliotheken Bind"},
    )
    assert asked.status_code == 202
    assert asked.json() == {"detail": LINK_CODE_SENT}
    unknown = bind_api.call(
        "POST",
        "/libraries/bind/link-codes",
        {"username": "bestaat-niet", "library_name": "Bibliotheken Bind"},
    )
    assert unknown.json() == asked.json()  # the same answer: nothing told

    code = mailed_link_code("lid@example.nl")
    wrong = "000000" if code != "000000" else "111111"
    check = bind_api.call(
        "POST", "/libraries/bind/link-codes/check", {"username": created["username"], "code": wrong}
    )
    assert problem(check, 422)["errors"] == [{"field": "link_code", "detail": LINK_CODE_WRONG}]
    ok = bind_api.call(
        "POST", "/libraries/bind/link-codes/check", {"username": created["username"], "code": code}
    )
    assert ok.status_code == 204

    link = {"username": created["username"], "code": code, "membership": membership(NUMBER)}
    response = bind_api.call(
        "POST", "/libraries/bind/accounts/link", link, headers={"Idempotency-Key": "link-1"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["id"] == created["id"]
    assert set(
        LinkedMembership.objects.filter(account_id=created["id"]).values_list(
            "library_code", "customer_number"
        )
    ) == {("oost", "21110000000001"), ("bind", NUMBER)}
    # A retry with its key gets the same answer; without, the used code is refused.
    again = bind_api.call(
        "POST", "/libraries/bind/accounts/link", link, headers={"Idempotency-Key": "link-1"}
    )
    assert again.json() == response.json()
    problem(bind_api.call("POST", "/libraries/bind/accounts/link", link), 422)


def test_memberships_are_kept_current_one_or_many(bind_api: Caller) -> None:
    bind_api.create(NUMBER)
    bind_api.create("25280000000018")
    response = bind_api.call(
        "PUT",
        f"/libraries/bind/memberships/{NUMBER}",
        {"subscription_code": "0110", "digital_rights": "basis", "valid_through": "2028-05-31"},
    )
    assert response.status_code == 204, response.content
    linked = LinkedMembership.objects.get(customer_number=NUMBER)
    assert (linked.subscription_code, linked.digital_rights, linked.valid_through) == (
        "0110",
        "basis",
        dt.date(2028, 5, 31),
    )
    missing = bind_api.call(
        "PUT",
        "/libraries/bind/memberships/99999999999999",
        {"subscription_code": "0110", "digital_rights": "basis"},
    )
    assert problem(missing, 404)["detail"] == "Dit klantnummer is aan geen inlogaccount gekoppeld."

    many = bind_api.call(
        "PUT",
        "/libraries/bind/memberships",
        {
            "memberships": [
                {"customer_number": NUMBER, "subscription_code": "0141", "digital_rights": ""},
                {
                    "customer_number": "25280000000018",
                    "subscription_code": "0141",
                    "digital_rights": "compleet",
                    "valid_through": "2029-01-31",
                    "state": "betalingsachterstand",
                    "pay_url": "https://bieb.example/betalen/1",
                },
                {"customer_number": "123", "subscription_code": "0141", "digital_rights": ""},
            ]
        },
    )
    assert many.status_code == 200, many.content
    assert many.json() == {"updated": 2, "not_linked": ["123"]}
    other = LinkedMembership.objects.get(customer_number="25280000000018")
    assert (other.valid_through, other.state) == (dt.date(2029, 1, 31), "betalingsachterstand")


def test_the_service_says_how_long_an_activation_link_works(bind_api: Caller) -> None:
    response = bind_api.call("GET", "/service")
    assert response.json() == {
        "activation_hours": 24.0,
        "activation_lifetime": "24 uur",
        "libraries": ["bind"],
    }


def id_token_for(
    account: LoginAccount,
    *,
    hours: float = 1,
    issued: dt.datetime | None = None,
    client_id: str = "bibliotheek-website",
) -> str:
    """An ID token as the KB's provider issues it at a sign-in (bieb.kb.oidc, the toolkit's
    finalize_id_token): signed with the provider's key for a registered client (by default the
    online sign-up's, whose tokens are consent for `link-own`), kept by jti; issued `issued`
    (now), expiring `hours` later."""
    import json

    from jwcrypto import jwt
    from oauth2_provider.settings import oauth2_settings

    from bieb.kb.clients import online_client_register, website_client_register
    from bieb.kb.models import OIDCIDToken

    registered = {
        "bibliotheek-website": website_client_register,
        "online-bibliotheek": online_client_register,
    }
    client = registered[client_id]()
    now = issued or dt.datetime.now(dt.UTC)
    jti = uuid.uuid4()
    OIDCIDToken.objects.create(
        user=account,
        application=client,
        jti=jti,
        expires=now + dt.timedelta(hours=hours),
        scope="openid",
    )
    claims = {
        "iss": oauth2_settings.OIDC_ISS_ENDPOINT,
        "aud": client.client_id,
        "sub": str(account.pk),
        "jti": str(jti),
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(hours=hours)).timestamp()),
    }
    header = {"typ": "JWT", "alg": "RS256", "kid": client.jwk_key.thumbprint()}
    token = jwt.JWT(header=json.dumps(header), claims=json.dumps(claims))
    token.make_signed_token(client.jwk_key)
    return str(token.serialize())


def test_link_own_takes_the_members_sign_in_as_consent(bind_api: Caller, oost_api: Caller) -> None:
    created = oost_api.call(
        "POST",
        "/libraries/oost/accounts",
        {"email": "lid@example.nl", "membership": membership("21110000000001")},
        headers={"Idempotency-Key": "o-1"},
    ).json()
    account = activate(created["username"])
    other = bind_api.create("25280000000099").json()
    path = f"/libraries/bind/accounts/{account.pk}/link-own"
    body = {"id_token": id_token_for(account), "membership": membership(NUMBER)}
    response = bind_api.call("POST", path, body)
    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(account.pk)
    assert LinkedMembership.objects.filter(
        account=account, library_code="bind", customer_number=NUMBER
    ).exists()

    # Someone else's sign-in, a forged token, one older than the consent's 8 days, or one
    # the KB issued to another client: no link.
    refused = bind_api.call(
        "POST",
        f"/libraries/bind/accounts/{other['id']}/link-own",
        {**body, "membership": membership("25280000000098")},
    )
    assert problem(refused, 422)["errors"][0]["field"] == "id_token"
    forged = bind_api.call("POST", path, {**body, "id_token": "eyJhbGciOiJub25lIn0.e30."})
    problem(forged, 422)
    too_old = id_token_for(account, issued=dt.datetime.now(dt.UTC) - dt.timedelta(days=8, hours=1))
    problem(bind_api.call("POST", path, {**body, "id_token": too_old}), 422)
    online = id_token_for(account, client_id="online-bibliotheek")
    assert (
        problem(bind_api.call("POST", path, {**body, "id_token": online}), 422)["errors"][0][
            "field"
        ]
        == "id_token"
    )


def test_the_library_keeps_its_contact_details_at_the_kb(bind_api: Caller) -> None:
    from bieb.kb.models import LibraryContact

    body = {
        "name": "Bibliotheken Bind",
        "contact_address": "Stationsplein 1, Bind",
        "contact_phone": "010 123 45 67",
        "contact_email": "info@bind.example",
        "website": "https://bind.example",
    }
    assert bind_api.call("PUT", "/libraries/bind", body).status_code == 204
    assert bind_api.call("PUT", "/libraries/bind", {**body, "name": "Bind"}).status_code == 204
    contact = LibraryContact.objects.get(library_code="bind")
    assert (contact.name, contact.contact_email) == ("Bind", "info@bind.example")
    bad = bind_api.call("PUT", "/libraries/bind", {**body, "contact_email": "geen"})
    assert problem(bad, 422)["errors"][0]["field"] == "contact_email"


def test_memberships_carry_their_dates_and_physical_loans(bind_api: Caller) -> None:
    bind_api.create(NUMBER)
    response = bind_api.call(
        "PUT",
        f"/libraries/bind/memberships/{NUMBER}",
        {
            "subscription_code": "0110",
            "digital_rights": "compleet",
            "valid_through": "2028-05-31",
            "starts_on": "2026-06-01",
            "period_through": "2027-05-31",
            "physical_loans": True,
        },
    )
    assert response.status_code == 204, response.content
    linked = LinkedMembership.objects.get(customer_number=NUMBER)
    assert (linked.starts_on, linked.period_through, linked.physical_loans) == (
        dt.date(2026, 6, 1),
        dt.date(2027, 5, 31),
        True,
    )
