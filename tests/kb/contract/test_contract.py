"""The contract of `bieb.kb.interface`: the same behaviour from both adapters, in process and
over HTTP (conftest.py). A library installation (BIEB_ROLE=library) gets from the KB over its
API exactly what the all-in-one installation gets in process: the same states, the same Dutch
refusals, one account per retried creation."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError

from bieb.kb.interface import AccountState, AccountStatus, KBInterface, LibraryData
from bieb.kb.models import LibraryContact, LinkedMembership, LoginAccount
from bieb.kb.self_service import SAME_EMAIL
from bieb.kb.services import LINK_CODE_SENT, LINK_CODE_WRONG
from bieb.mail.models import OutboxMessage
from tests.customers.factories import mailed_link_code
from tests.kb.api.conftest import activate
from tests.kb.api.test_accounts import id_token_for
from tests.kb.contract.conftest import membership, new_id

NUMBER = "25280000000017"


def create(kb: KBInterface, number: str, email: str) -> AccountStatus:
    return kb.create_account(
        email=email, membership=membership(number), actor="balie", account_id=new_id()
    )


def activations(to: str) -> int:
    return OutboxMessage.objects.filter(to=to, kind="kb.activation").count()


def messages(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    value = error.value
    return dict(value.message_dict) if hasattr(value, "error_dict") else {"": value.messages}


def test_create_makes_a_waiting_account_and_mails_its_link(kb: KBInterface) -> None:
    account_id = new_id()
    status = kb.create_account(
        email="klant@example.nl",
        membership=membership(NUMBER),
        actor="balie",
        account_id=account_id,
    )
    assert (status.id, status.username, status.email) == (account_id, NUMBER, "klant@example.nl")
    assert status.state == AccountState.WAITING and status.activation_deadline is not None
    assert status.label.startswith("wacht op activering tot ")
    assert activations("klant@example.nl") == 1
    linked = LinkedMembership.objects.get(account_id=account_id)
    assert (linked.library_code, linked.customer_number, linked.valid_through) == (
        "bind",
        NUMBER,
        dt.date(2027, 5, 31),
    )
    assert kb.activation_lifetime_label() == "24 uur"


def test_a_retried_create_makes_one_account_and_one_mail(kb: KBInterface) -> None:
    account_id = new_id()
    first = kb.create_account(
        email="klant@example.nl",
        membership=membership(NUMBER),
        actor="balie",
        account_id=account_id,
    )
    again = kb.create_account(
        email="klant@example.nl",
        membership=membership(NUMBER),
        actor="balie",
        account_id=account_id,
    )
    assert again == first
    assert LoginAccount.objects.count() == 1
    assert activations("klant@example.nl") == 1
    # The same with a key of the caller's own (the outbox's).
    key = f"outbox-{uuid.uuid4()}"
    other = new_id()
    made = [
        kb.create_account(
            email="twee@example.nl",
            membership=membership("25280000000018"),
            actor="balie",
            account_id=other,
            idempotency_key=key,
        )
        for _ in range(2)
    ]
    assert made[0] == made[1] and made[0].username == "25280000000018"
    assert LoginAccount.objects.count() == 2
    assert activations("twee@example.nl") == 1


def test_an_account_id_of_another_membership_is_refused_and_tells_nothing(
    kb: KBInterface,
) -> None:
    """A library names only its own accounts: creating with the id of an account made for
    another customer (of this library or another) is refused in Dutch, without its username or
    address, and makes nothing."""
    account_id = new_id()
    kb.create_account(
        email="klant@example.nl",
        membership=membership(NUMBER),
        actor="balie",
        account_id=account_id,
    )
    for other in (membership("25280000000018"), membership("1234567", library="oost")):
        with pytest.raises(ValidationError) as refused:
            kb.create_account(
                email="ander@example.nl", membership=other, actor="balie", account_id=account_id
            )
        text = " ".join(refused.value.messages)
        assert "hoort bij een andere inschrijving" in text
        assert NUMBER not in text and "klant@example.nl" not in text
    assert LoginAccount.objects.count() == 1
    assert activations("ander@example.nl") == 0


def test_link_an_existing_account_with_the_mailed_code(kb: KBInterface) -> None:
    oost = kb.create_account(
        email="verhuisd@example.nl",
        membership=membership("26100000000011", "oost"),
        actor="balie-oost",
        account_id=new_id(),
    )
    activate(oost.username)
    answer = kb.request_link_code(
        username=oost.username, library_code="bind", library_name="Bibliotheken Bind", actor="balie"
    )
    assert answer == LINK_CODE_SENT
    # Unknown names get the same answer (no enumeration).
    assert (
        kb.request_link_code(
            username="niemand-hier", library_code="bind", library_name="Bind", actor="balie"
        )
        == LINK_CODE_SENT
    )
    code = mailed_link_code("verhuisd@example.nl")
    with pytest.raises(ValidationError) as wrong:
        kb.check_link_code(username=oost.username, code="000000", library_code="bind", actor="b")
    assert messages(wrong) == {"link_code": [LINK_CODE_WRONG]}
    kb.check_link_code(username=oost.username, code=code, library_code="bind", actor="balie")
    linked = kb.link_account(
        username=oost.username, code=code, membership=membership(NUMBER), actor="balie"
    )
    assert (linked.id, linked.state) == (oost.id, AccountState.ACTIVE)
    assert set(
        LinkedMembership.objects.filter(account_id=oost.id).values_list("library_code", flat=True)
    ) == {"bind", "oost"}


def test_link_by_id_with_the_members_own_sign_in(kb: KBInterface) -> None:
    made = kb.create_account(
        email="lid@example.nl",
        membership=membership("26100000000011", "oost"),
        actor="balie-oost",
        account_id=new_id(),
    )
    account = activate(made.username)
    assert made.id is not None
    linked = kb.link_account_by_id(
        account_id=made.id,
        membership=membership(NUMBER),
        actor="online",
        id_token=id_token_for(account),
    )
    assert (linked.id, linked.state) == (made.id, AccountState.ACTIVE)
    assert LinkedMembership.objects.filter(account_id=made.id, library_code="bind").exists()


def test_the_sign_up_sign_in_is_consent_for_eight_days_and_for_its_own_account_only(
    kb: KBInterface,
) -> None:
    """The library registers an online member when the payment settles, hours or days after
    they signed in; the ID token of that sign-in (expired after an hour) is still their consent
    for SIGNUP_LIFETIME + UNSETTLED_GRACE after it was issued, and never anyone else's."""
    import time_machine

    from bieb.kb.consent import ID_TOKEN_REFUSED, LINK_OWN_CONSENT_AGE
    from bieb.signup.services import SIGNUP_LIFETIME, UNSETTLED_GRACE

    assert LINK_OWN_CONSENT_AGE == SIGNUP_LIFETIME + UNSETTLED_GRACE
    made, other = (
        kb.create_account(
            email=f"{name}@example.nl",
            membership=membership(number, "oost"),
            actor="balie-oost",
            account_id=new_id(),
        )
        for name, number in (("lid", "26100000000011"), ("ander", "26100000000012"))
    )
    assert made.id is not None
    account, stranger = activate(made.username), activate(other.username)
    signed_in = dt.datetime.now(dt.UTC)
    token = id_token_for(account, issued=signed_in)

    def link(number: str, id_token: str) -> AccountStatus:
        assert made.id is not None
        return kb.link_account_by_id(
            account_id=made.id, membership=membership(number), actor="online", id_token=id_token
        )

    with time_machine.travel(signed_in + LINK_OWN_CONSENT_AGE - dt.timedelta(minutes=5)):
        linked = link(NUMBER, token)  # paid a week later: the token expired long ago
    assert (linked.id, linked.state) == (made.id, AccountState.ACTIVE)
    assert LinkedMembership.objects.filter(account_id=made.id, customer_number=NUMBER).exists()

    too_late = signed_in + LINK_OWN_CONSENT_AGE + dt.timedelta(minutes=5)
    with time_machine.travel(too_late), pytest.raises(ValidationError) as late:
        link("25280000000018", token)
    assert messages(late) == {"id_token": [ID_TOKEN_REFUSED]}

    with pytest.raises(ValidationError) as someone_else:
        link("25280000000019", id_token_for(stranger))
    assert messages(someone_else) == {"id_token": [ID_TOKEN_REFUSED]}
    with pytest.raises(ValidationError) as other_client:
        link("25280000000019", id_token_for(account, client_id="online-bibliotheek"))
    assert messages(other_client) == {"id_token": [ID_TOKEN_REFUSED]}
    assert set(
        LinkedMembership.objects.filter(account_id=made.id).values_list(
            "customer_number", flat=True
        )
    ) == {"26100000000011", NUMBER}


def test_resend_gives_a_new_link_and_says_why_not_in_dutch(kb: KBInterface) -> None:
    import time_machine

    start = dt.datetime.now(dt.UTC)
    made = create(kb, NUMBER, "klant@example.nl")
    assert made.id is not None
    with pytest.raises(ValidationError) as soon:
        kb.resend_activation(account_id=made.id, actor="balie")
    assert messages(soon) == {
        "": ["De activeringsmail is net verstuurd. Wacht een minuut voor u hem opnieuw verstuurt."]
    }
    with time_machine.travel(start + dt.timedelta(minutes=2)):
        again = kb.resend_activation(account_id=made.id, actor="balie")
    assert again.state == AccountState.WAITING
    assert again.activation_deadline and made.activation_deadline
    assert again.activation_deadline > made.activation_deadline
    assert activations("klant@example.nl") == 2
    activate(made.username)
    with pytest.raises(ValidationError) as active:
        kb.resend_activation(account_id=made.id, actor="balie")
    assert messages(active) == {"": ["Dit inlogaccount is al geactiveerd."]}
    with pytest.raises(ValidationError) as gone:
        kb.resend_activation(account_id=new_id(), actor="balie")
    assert "bestaat niet meer" in messages(gone)[""][0]


def test_forget_deletes_a_never_activated_account_and_a_second_time_is_no_error(
    kb: KBInterface,
) -> None:
    made = create(kb, NUMBER, "klant@example.nl")
    assert made.id is not None
    kb.forget_account(account_id=made.id, library_code="bind", customer_number=NUMBER, actor="b")
    gone = kb.account_status_by_id(account_id=made.id)
    assert (gone.state, gone.username, gone.id) == (AccountState.EXPIRED, "", made.id)
    kb.forget_account(account_id=made.id, library_code="bind", customer_number=NUMBER, actor="b")


def test_forget_many_at_once_keeps_the_active_accounts(kb: KBInterface) -> None:
    waiting = create(kb, NUMBER, "a@example.nl")
    active = kb.create_account(
        email="b@example.nl",
        membership=membership("25280000000018"),
        actor="b",
        account_id=new_id(),
    )
    activate(active.username)
    assert waiting.id and active.id
    kb.forget_accounts(
        library_code="bind",
        links=[(waiting.id, NUMBER), (active.id, "25280000000018")],
        actor="bewaartermijn",
    )
    after = kb.account_statuses_by_id(account_ids=[waiting.id, active.id])
    assert [s.state for s in after] == [AccountState.EXPIRED, AccountState.ACTIVE]
    assert not LinkedMembership.objects.exists()


def test_an_email_change_starts_the_confirmation_and_refuses_the_same_address(
    kb: KBInterface,
) -> None:
    made = create(kb, NUMBER, "oud@example.nl")
    activate(made.username)
    assert made.id is not None
    asked = kb.account_email_change_request(account_id=made.id, email="nieuw@example.nl", actor="b")
    assert (asked.email, asked.pending_email) == ("oud@example.nl", "nieuw@example.nl")
    assert OutboxMessage.objects.filter(to="nieuw@example.nl").count() == 1
    with pytest.raises(ValidationError) as same:
        kb.account_email_change_request(account_id=made.id, email="oud@example.nl", actor="b")
    assert messages(same) == {"email": [SAME_EMAIL]}


def test_status_of_one_and_of_many_in_the_order_asked(kb: KBInterface) -> None:
    first = create(kb, NUMBER, "a@example.nl")
    second = kb.create_account(
        email="b@example.nl",
        membership=membership("25280000000018"),
        actor="b",
        account_id=new_id(),
    )
    activate(second.username)
    assert first.id and second.id
    unknown = new_id()
    one = kb.account_status_by_id(account_id=second.id)
    assert (one.username, one.email, one.state) == ("25280000000018", "b@example.nl", "actief")
    many = kb.account_statuses_by_id(account_ids=[second.id, unknown, first.id])
    assert [(s.id, s.state) for s in many] == [
        (second.id, AccountState.ACTIVE),
        (unknown, AccountState.EXPIRED),
        (first.id, AccountState.WAITING),
    ]
    by_name = kb.account_status(username=NUMBER)
    assert (by_name.id, by_name.state) == (first.id, AccountState.WAITING)
    assert kb.account_status(username="niemand-hier").state == AccountState.EXPIRED


def test_memberships_are_kept_current_one_or_many(kb: KBInterface) -> None:
    for number in (NUMBER, "25280000000018"):
        kb.create_account(
            email=f"{number}@example.nl",
            membership=membership(number),
            actor="b",
            account_id=new_id(),
        )
    kb.update_membership(
        membership=membership(NUMBER, valid_through=dt.date(2028, 5, 31), physical_loans=True)
    )
    kb.update_memberships(
        memberships=[
            membership("25280000000018", state="betalingsachterstand"),
            membership("25289999999999"),  # linked to no account: nothing to keep
        ]
    )
    # Not linked: no error either.
    kb.update_membership(membership=membership("25289999999998"))
    values = dict(
        LinkedMembership.objects.values_list("customer_number", "valid_through").order_by("id")
    )
    assert values == {NUMBER: dt.date(2028, 5, 31), "25280000000018": dt.date(2027, 5, 31)}
    assert LinkedMembership.objects.get(customer_number=NUMBER).physical_loans
    assert (
        LinkedMembership.objects.get(customer_number="25280000000018").state
        == "betalingsachterstand"
    )


def test_the_library_keeps_its_contact_details_at_the_kb(kb: KBInterface) -> None:
    kb.library_update(
        library=LibraryData(
            code="bind",
            name="Bibliotheken Bind",
            contact_address="Stationsstraat 1, Assen",
            contact_phone="0592 123 456",
            contact_email="info@bind.example",
            website="https://www.bind.example/",
        )
    )
    contact = LibraryContact.objects.get(library_code="bind")
    assert (contact.name, contact.contact_email) == ("Bibliotheken Bind", "info@bind.example")


def test_the_event_feed_tells_of_a_purge(kb: KBInterface) -> None:
    from bieb.kb.services import accounts_purge_expired

    made = create(kb, NUMBER, "a@example.nl")
    empty = kb.library_events(library_code="bind", after=0)
    assert empty.events == [] and not empty.more
    LoginAccount.objects.filter(pk=made.id).update(
        activation_deadline=dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    )
    accounts_purge_expired()
    page = kb.library_events(library_code="bind", after=empty.cursor)
    assert [(e.type, e.account_id, e.customer_number) for e in page.events] == [
        ("account.purged", made.id, NUMBER)
    ]
    assert kb.library_events(library_code="bind", after=page.cursor).events == []
    assert kb.library_events(library_code="oost", after=0).events == []


def test_account_figures_count_the_librarys_counter_accounts(kb: KBInterface) -> None:
    from bieb.kb.interface import AccountFigures
    from bieb.kb.statistics.aggregate import kb_sums_compute
    from bieb.kb.statistics.models import DailyFigure, KBMetric

    day = dt.date(2025, 3, 10)
    for code, origin, metric, count in (
        ("bind", "balie", KBMetric.CREATED, 3),
        ("bind", "balie", KBMetric.MADE_ACTIVATED, 2),
        ("bind", "balie", KBMetric.MADE_EXPIRED, 1),
        ("oost", "balie", KBMetric.CREATED, 7),
        ("", "online", KBMetric.CREATED, 5),
    ):
        DailyFigure.objects.create(
            day=day, metric=metric, library_code=code, origin=origin, count=count
        )
    kb_sums_compute(start=day, end=day)
    assert kb.account_figures(library_code="bind", start=day, end=day) == AccountFigures(3, 2, 1)
    march = (dt.date(2025, 3, 1), dt.date(2025, 3, 31))  # a whole month: read from its sums
    assert kb.account_figures(library_code="bind", start=march[0], end=march[1]) == AccountFigures(
        3, 2, 1
    )
    later = day + dt.timedelta(days=1)
    assert kb.account_figures(library_code="bind", start=later, end=later) == AccountFigures()
