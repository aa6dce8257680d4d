import datetime as dt
from decimal import Decimal

import time_machine

from bieb.customers.ledger import ledger_payment_book
from bieb.customers.models import Membership, MembershipPeriod
from bieb.customers.renewals import renewals_run
from bieb.customers.services import customer_register
from bieb.mail.models import OutboxMessage
from tests.customers.factories import details


def test_smoke(balie, branch_5280, digital_only, adult, bind):
    with time_machine.travel(dt.datetime(2024, 6, 12, 10, tzinfo=dt.UTC)):
        reg = customer_register(actor=balie, branch=branch_5280, details=details(), subscription_type=digital_only)
        ledger_payment_book(actor=balie, customer=reg.customer, amount=Decimal("42"), method="pin")
        m = Membership.objects.get()
        print(m.status, m.rights_through)
    with time_machine.travel(dt.datetime(2025, 5, 2, 3, tzinfo=dt.UTC)):
        run = renewals_run(library=bind, day=dt.date(2025, 5, 2), started_by="t")
        print(run.booked, run.offered, run.mailed)
        run2 = renewals_run(library=bind, day=dt.date(2025, 5, 2), started_by="t")
        print(run2.booked, run2.offered, run2.mailed)
        print(OutboxMessage.objects.filter(kind__startswith="customers").last().text_body)
        print(list(MembershipPeriod.objects.values_list("start", "end", "state", "fee")))
    with time_machine.travel(dt.datetime(2025, 6, 1, 3, tzinfo=dt.UTC)):
        run = renewals_run(library=bind, day=dt.date(2025, 6, 1), started_by="t")
        m = Membership.objects.get()
        print(run.ended, m.status, m.rights_through)
