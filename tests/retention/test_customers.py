"""The privacy rule at the library: a customer whose last membership ended more than the
library's retention period ago (24 months) with nothing open is anonymised, the day after, not a
day before; the ledger stays for 7 years after that, then the customer goes. Time travels with
time-machine; every run is the service the daily job and `bieb retention` call."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from bieb.audit.models import AuditEvent
from bieb.core.periodic import JOBS
from bieb.customers.ledger import ledger_payment_book
from bieb.customers.models import (
    Customer,
    LedgerLine,
    Membership,
    MembershipPeriod,
    MembershipStatus,
)
from bieb.customers.selectors import customer_search
from bieb.customers.year import customer_saldo_of
from bieb.debits.models import Debit, DebitState, Mandate, MandateEvent, MandateKind, MandateState
from bieb.debits.services import mandate_create
from bieb.kb.models import AccountState, LinkedMembership, LoginAccount
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.mail.models import OutboxMessage
from bieb.retention.services import retention_run
from bieb.staff.models import User
from tests.customers.year import fresh, member, on, run

pytestmark = pytest.mark.django_db

D = dt.date
REGISTERED = D(2024, 6, 3)
LAST_DAY = D(2025, 5, 31)  # "Geldig t/m mei 2025": the Vast membership's last day
KEPT_THROUGH = D(2027, 5, 31)  # 24 months after it
ANONYMISED_ON = D(2027, 6, 1)


def retention(day: dt.date, **kwargs: object) -> dict[str, tuple[int, int]]:
    """The retention run of `day`, at 03:00 that day: {library code: (anonymised, deleted)}."""
    with on(day, hour=3):
        results = retention_run(today=day, **kwargs)  # type: ignore[arg-type]
    return {r.library.code: (r.anonymised, r.deleted) for r in results}


def activate(customer: Customer) -> LoginAccount:
    account = LoginAccount.objects.get(pk=customer.login_account_id)
    account.state = AccountState.ACTIVE
    account.email_verified = True
    account.activation_deadline = None
    account.activated_at = account.created_at
    account.set_password("Leeslamp-Duinpan-42")
    account.save()
    return account


def ended_member(
    balie: User,
    branch: Branch,
    subscription: SubscriptionType,
    *,
    surname: str = "Tester",
    pay: bool = True,
) -> Membership:
    """The seed's Digital only (Vast) from 3 June 2024, not renewed: it ends on 31 May 2025
    (the renewal run of 1 June 2025 says "beëindigd")."""
    membership = member(balie, branch, subscription, REGISTERED, surname=surname, pay=pay)
    library = membership.library
    run(library, D(2025, 5, 2))  # offered, "je abonnement loopt af" mailed
    run(library, D(2025, 6, 1))
    return fresh(membership)


@pytest.fixture
def tester(balie: User, branch_5280: Branch, digital_only: SubscriptionType) -> Customer:
    """E.B. Tester: an activated login account, a mandate at the counter, personal data
    changed once; the membership ended on 31 May 2025 with saldo 0."""
    membership = ended_member(balie, branch_5280, digital_only)
    assert membership.status == MembershipStatus.ENDED
    customer = Customer.objects.get(pk=membership.customer_id)
    activate(customer)
    with on(REGISTERED):
        mandate_create(
            library=membership.library,
            customer=customer,
            iban="NL91ABNA0417164300",
            holder_name="E.B. Tester",
            signed_on=REGISTERED,
            kind=MandateKind.COUNTER,
            actor=balie,
        )
    assert customer_saldo_of(customer.pk) == 0
    return customer


def test_anonymised_the_day_after_the_retention_period_not_a_day_before(
    tester: Customer, bind: Library, client: Client, balie: User
) -> None:
    number = tester.number
    account_id = tester.login_account_id
    assert LinkedMembership.objects.filter(customer_number=number).exists()
    assert OutboxMessage.objects.filter(kind="customers.renewal_fixed").exists()
    lines = list(LedgerLine.objects.filter(customer=tester).values_list("pk", "amount"))

    assert retention(KEPT_THROUGH)["bind"] == (0, 0)
    kept = Customer.objects.get(pk=tester.pk)
    assert (kept.surname, kept.email, kept.anonymised_at) == ("Tester", tester.email, None)
    assert [row.number for row in customer_search(library=bind, query="Tester")[0]] == [number]

    assert retention(ANONYMISED_ON)["bind"] == (1, 0)
    gone = Customer.objects.get(pk=tester.pk)
    assert gone.display_name == "Geanonimiseerd"
    assert (gone.initials, gone.email, gone.postcode, gone.house_number) == ("", "", "", None)
    assert (gone.iban, gone.bic, gone.birth_date) == ("", "", D(1900, 1, 1))
    assert gone.login_account_id is None and gone.anonymised_at is not None
    assert gone.number == number  # the customer number and ledger stay
    assert list(LedgerLine.objects.filter(customer=gone).values_list("pk", "amount")) == lines
    # The counter finds the number, never the old name or address.
    assert customer_search(library=bind, query="Tester")[0] == []
    assert customer_search(library=bind, query="tester@example")[0] == []
    assert customer_search(library=bind, query="9468 BG")[0] == []
    assert [row.number for row in customer_search(library=bind, query=number)[0]] == [number]
    # The login account is unlinked at the KB, not deleted: it is the member's.
    assert not LinkedMembership.objects.filter(customer_number=number).exists()
    assert LoginAccount.objects.filter(pk=account_id, state=AccountState.ACTIVE).exists()
    # The library's mails about the customer left the outbox.
    assert not OutboxMessage.objects.filter(kind="customers.renewal_fixed").exists()

    client.force_login(balie)
    page = client.get(f"/balie/klanten/{number}/").content.decode()
    assert "Geanonimiseerd op 01-06-2027" in page
    assert "Tester" not in page and "9468" not in page and "NL91" not in page
    assert "Wijzig persoonsgegevens" not in page


def test_the_audit_rows_keep_the_event_not_the_personal_data(tester: Customer) -> None:
    about_before = set(
        AuditEvent.objects.filter(object_id=str(tester.pk)).values_list("pk", "action")
    )
    registered = AuditEvent.objects.get(object_id=str(tester.pk), action="customer.registered")
    assert registered.data["login_account"] == tester.number

    retention(ANONYMISED_ON)

    about = set(AuditEvent.objects.filter(object_id=str(tester.pk)).values_list("pk", "action"))
    assert about == about_before  # every event is still there
    registered.refresh_from_db()
    assert registered.data["login_account"] is None  # the username is not
    assert registered.data["subscription"] == "0141"  # what is not personal stays
    assert registered.data["fee"] == "42.00"
    assert registered.actor_name == "balie"  # staff stay named
    mandate = Mandate.objects.get(customer=tester)
    assert (mandate.iban, mandate.holder_name, mandate.consent_ip) == ("", "Geanonimiseerd", None)
    assert mandate.state == MandateState.LAPSED
    descriptions = list(
        MandateEvent.objects.filter(mandate=mandate).values_list("description", flat=True)
    )
    assert not any("NL91" in d or "4300" in d for d in descriptions)
    created = AuditEvent.objects.get(object_id=str(tester.pk), action="mandate.created")
    assert created.data["mandate"] == mandate.reference
    run_row = AuditEvent.objects.get(action="retention.run")
    assert run_row.actor_name == "retention"
    assert run_row.data == {"day": "2027-06-01", "anonymised": 1, "deleted": 0, "files": 0}


def test_a_saldo_other_than_zero_keeps_the_customer(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType, bind: Library
) -> None:
    owes = ended_member(balie, branch_5280, digital_only, surname="Schuld", pay=False)
    assert customer_saldo_of(owes.customer_id) == Decimal("42.00")
    assert owes.status in (MembershipStatus.ENDED, MembershipStatus.DEREGISTERED)
    in_credit = ended_member(balie, branch_5280, digital_only, surname="Tegoed")
    with on(D(2025, 7, 1)):
        ledger_payment_book(
            actor=balie,
            customer=in_credit.customer,
            amount=Decimal("5.00"),
            method="pin",
            allow_overpayment=True,
        )

    assert retention(D(2030, 1, 1))["bind"] == (0, 0)
    assert Customer.objects.filter(anonymised_at__isnull=True).count() == 2

    with on(D(2030, 1, 2)):  # paid at last: anonymised by the next run
        ledger_payment_book(
            actor=balie, customer=owes.customer, amount=Decimal("42.00"), method="pin"
        )
    assert retention(D(2030, 1, 2))["bind"] == (1, 0)
    assert Customer.objects.get(pk=owes.customer_id).anonymised_at is not None


def test_an_open_direct_debit_keeps_the_customer(tester: Customer) -> None:
    mandate = Mandate.objects.get(customer=tester)
    debit = Debit.objects.create(
        library=tester.library,
        mandate=mandate,
        customer=tester,
        amount=Decimal("5.00"),
        description="Open bedrag",
        collection_date=D(2027, 7, 1),
        end_to_end_id="RET-TEST-1",
        state=DebitState.PLANNED,
    )
    assert retention(ANONYMISED_ON)["bind"] == (0, 0)
    Debit.objects.filter(pk=debit.pk).update(state=DebitState.IN_FILE)
    assert retention(ANONYMISED_ON)["bind"] == (0, 0)
    Debit.objects.filter(pk=debit.pk).update(state=DebitState.CANCELLED)
    assert retention(ANONYMISED_ON)["bind"] == (1, 0)
    assert Debit.objects.get(pk=debit.pk).iban == ""


def test_a_current_membership_keeps_the_customer_however_old_the_other(
    tester: Customer, adult: SubscriptionType
) -> None:
    old = Membership.objects.get(customer=tester)
    current = Membership.objects.create(
        library=old.library,
        customer=tester,
        subscription_type=adult,
        tariff=old.tariff,
        branch=old.branch,
        start_date=D(2027, 1, 1),
        expiry_month=12,
        valid_through=D(2027, 12, 31),
        status=MembershipStatus.ACTIVE,
    )
    assert retention(D(2028, 6, 1))["bind"] == (0, 0)
    # Cancelled, but its last day is still ahead: current.
    Membership.objects.filter(pk=current.pk).update(
        status=MembershipStatus.ENDED, valid_through=D(2028, 6, 30), ends_on=D(2028, 6, 30)
    )
    assert retention(D(2028, 6, 1))["bind"] == (0, 0)
    # Ended on 30 June 2028: kept through 30 June 2030.
    assert retention(D(2030, 6, 30))["bind"] == (0, 0)
    assert retention(D(2030, 7, 1))["bind"] == (1, 0)


def test_each_library_has_its_own_period(tester: Customer, balie_oost: User, oost: Library) -> None:
    oost.retention_months = 12
    oost.save(update_fields=["retention_months"])
    branch = oost.branches.order_by("number").first()
    assert branch is not None
    subscription = SubscriptionType.objects.get(library=oost, code="0141")
    elsewhere = ended_member(balie_oost, branch, subscription, surname="Oosterling")

    assert retention(D(2026, 5, 31)) == {"bind": (0, 0), "oost": (0, 0)}
    assert retention(D(2026, 6, 1)) == {"bind": (0, 0), "oost": (1, 0)}
    assert Customer.objects.get(pk=elsewhere.customer_id).anonymised_at is not None
    assert Customer.objects.get(pk=tester.pk).anonymised_at is None
    assert retention(ANONYMISED_ON) == {"bind": (1, 0), "oost": (0, 0)}


def test_a_dry_run_writes_nothing_and_says_what_it_would_do(
    tester: Customer, capsys: pytest.CaptureFixture[str]
) -> None:
    audit_rows = AuditEvent.objects.count()
    with on(ANONYMISED_ON, hour=3):
        call_command("retention", "--dry-run", "--as-of", ANONYMISED_ON.isoformat())
    out = capsys.readouterr().out
    assert "Proefdraaien (2027-06-01): er wordt niets gewijzigd" in out
    assert "bind (Bibliotheken Bind): te anonimiseren 1, te verwijderen 0" in out
    assert "oost (" in out and "inlogdienst (KB): te waarschuwen" in out
    assert Customer.objects.get(pk=tester.pk).surname == "Tester"
    assert AuditEvent.objects.count() == audit_rows
    assert LinkedMembership.objects.filter(customer_number=tester.number).exists()

    with on(ANONYMISED_ON, hour=3):
        call_command("retention", "--as-of", ANONYMISED_ON.isoformat())
    assert "bind (Bibliotheken Bind): geanonimiseerd 1, verwijderd 0" in capsys.readouterr().out


def test_a_second_run_changes_nothing(tester: Customer) -> None:
    assert retention(ANONYMISED_ON)["bind"] == (1, 0)
    after = Customer.objects.values().get(pk=tester.pk)
    audit = list(AuditEvent.objects.order_by("pk").values())
    assert retention(ANONYMISED_ON)["bind"] == (0, 0)
    assert retention(D(2027, 6, 2))["bind"] == (0, 0)
    assert Customer.objects.values().get(pk=tester.pk) == after
    assert list(AuditEvent.objects.order_by("pk").values()) == audit


def test_deleted_with_the_ledger_seven_years_after_the_anonymisation(
    tester: Customer, balie: User, branch_5280: Branch, adult: SubscriptionType
) -> None:
    other = member(balie, branch_5280, adult, D(2033, 1, 1), surname="Blijft")
    assert retention(ANONYMISED_ON)["bind"] == (1, 0)
    memberships = list(Membership.objects.filter(customer=tester).values_list("pk", flat=True))

    assert retention(D(2034, 6, 1))["bind"] == (0, 0)  # anonymised 1 June 2027, 03:00
    assert Customer.objects.filter(pk=tester.pk).exists()
    assert retention(D(2034, 6, 2))["bind"] == (0, 1)

    assert not Customer.objects.filter(pk=tester.pk).exists()
    assert not LedgerLine.objects.filter(customer_id=tester.pk).exists()
    assert not Membership.objects.filter(pk__in=memberships).exists()
    assert not MembershipPeriod.objects.filter(membership_id__in=memberships).exists()
    assert not Mandate.objects.filter(customer_id=tester.pk).exists()
    assert not AuditEvent.objects.filter(
        object_type="customers.customer", object_id=str(tester.pk)
    ).exists()
    assert Customer.objects.filter(pk=other.customer_id, surname="Blijft").exists()
    assert LedgerLine.objects.filter(customer_id=other.customer_id).exists()
    assert retention(D(2034, 6, 2))["bind"] == (0, 0)


def test_an_anonymised_customer_cannot_be_changed_at_the_counter(
    tester: Customer, client: Client, balie: User
) -> None:
    retention(ANONYMISED_ON)
    url = f"/balie/klanten/{tester.number}/"
    with on(D(2027, 6, 2)):
        client.force_login(balie)
        edit = client.post(f"{url}wijzigen/", {"surname": "Tester", "initials": "E.B."})
        assert (edit.status_code, edit["Location"]) == (302, url)
        pay = client.post(f"{url}betaling/", {"amount": "5,00", "method": "pin"})
        assert pay.status_code == 302
        page = client.get(url).content.decode()
        inzage = client.get(f"{url}inzage/")
        history = client.get(f"{url}historie/")
    assert "geanonimiseerd (bewaartermijn verstreken): er kan niets meer" in page
    for response in (inzage, history):
        assert response.status_code == 200
        assert "Tester" not in response.content.decode()
        assert "tester@example.nl" not in response.content.decode()
    assert Customer.objects.get(pk=tester.pk).surname == "Geanonimiseerd"
    assert customer_saldo_of(tester.pk) == 0


def test_the_daily_job_is_registered() -> None:
    assert JOBS["retention_customers_daily"].every == dt.timedelta(days=1)
    assert JOBS["kb_retention_daily"].every == dt.timedelta(days=1)


def test_a_customer_without_memberships_goes_by_the_day_it_was_registered(
    bind: Library, branch_5280: Branch
) -> None:
    """There is no such customer in the normal course (a registration makes both in one
    transaction); if one exists, its registration day counts as the end."""
    with on(D(2026, 1, 1)):
        lone = Customer.objects.create(
            library=bind,
            number="25280999999990",
            initials="A.",
            surname="Alleen",
            birth_date=D(1980, 1, 1),
            registered_branch=branch_5280,
        )
    assert retention(D(2028, 1, 1))["bind"] == (0, 0)
    assert retention(D(2028, 1, 2))["bind"] == (1, 0)
    assert Customer.objects.get(pk=lone.pk).surname == "Geanonimiseerd"


def test_a_batch_the_database_breaks_off_is_done_again_once(
    tester: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deadlock with a member's own change at that moment: the batch is done again; one that
    fails twice is left for the next run, and the run goes on."""
    from django.db import OperationalError

    from bieb.retention import services

    real = services._anonymise_batch
    calls: list[int] = []

    def broken_once(*args: object, **kwargs: object) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("deadlock detected")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "_anonymise_batch", broken_once)
    assert retention(ANONYMISED_ON)["bind"] == (1, 0)
    assert len(calls) == 2

    def always_broken(*args: object, **kwargs: object) -> int:
        raise OperationalError("deadlock detected")

    Customer.objects.filter(pk=tester.pk).update(anonymised_at=None)
    monkeypatch.setattr(services, "_anonymise_batch", always_broken)
    assert retention(ANONYMISED_ON)["bind"] == (0, 0)


def test_debit_files_older_than_the_period_lose_their_content(
    tester: Customer, bind: Library
) -> None:
    from bieb.debits.models import BatchState, DebitBatch

    def batch(day: dt.date, state: str = BatchState.PROCESSED) -> DebitBatch:
        return DebitBatch.objects.create(
            library=bind,
            message_id=f"BIEB-{day:%Y%m%d}-{state}",
            collection_date=day,
            sequence_type="FRST",
            state=state,
            count=1,
            total=Decimal("42.00"),
            xml="<Document><Nm>E.B. Tester</Nm><IBAN>NL91ABNA0417164300</IBAN></Document>",
            created_by="balie",
        )

    old, recent, unsent = (
        batch(D(2025, 5, 31)),
        batch(D(2025, 6, 1)),
        batch(D(2025, 5, 1), "verstuurd"),
    )
    with on(ANONYMISED_ON, hour=3):
        [result] = retention_run(today=ANONYMISED_ON, library_code="bind")
    assert result.files == 1
    assert DebitBatch.objects.get(pk=old.pk).xml == ""
    assert DebitBatch.objects.get(pk=old.pk).total == Decimal("42.00")
    assert "Tester" in DebitBatch.objects.get(pk=recent.pk).xml
    assert "Tester" in DebitBatch.objects.get(pk=unsent.pk).xml
