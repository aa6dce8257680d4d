"""1. Counter registrations per second in one process, against the same rows in plain SQL.

Ours: `customer_register` as the counter calls it after the form is valid (a generated
number, the membership with its first period and fee line, the call to the KB in the library's
outbox, the audit row; after that commits, the KB's transaction: a new login account linked to
the membership, its event, the activation mail in the outbox; then the mail's send task).
The limit: the same rows written with plain SQL on a psycopg connection, in the same
transactions, as the design has them since the KB became a service of its own (issue 14): the
library's (number, customer, membership, period, ledger line, outbox call, audit row), then the
KB's (account, linked membership, account event, outbox mail, the call marked done), then the
send task. Before that the limit was one transaction without the period and the outbox call.
    .venv/bin/python -m bench.registration
"""

import datetime as dt
import json
import random
import time
import uuid
from email.utils import make_msgid

from bench.harness import Figure, bench_library, bench_staff, main

TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
LIBRARY_INDEX = 800  # bench libraries 800-899 belong to this module


def _details(rng: random.Random):
    from bieb.customers.details import CustomerDetails
    from bieb.customers.validators import HouseNumber

    surname = f"Bench{uuid.UUID(int=rng.getrandbits(128)).hex[:10]}"
    return CustomerDetails(
        salutation="mw",
        initials="A.B.",
        surname=surname,
        first_name="Anna",
        birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000)),
        postcode=f"{rng.randrange(1000, 9999)}{rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}B",
        house=HouseNumber(rng.randrange(1, 300), "", ""),
        email=f"{surname.lower()}@example.nl",
        identity_checked=True,
        identity_document="id",
    )


def _plain_sql(n: int, library, branch, subscription, tariff, staff, rng) -> float:
    """Seconds for n registrations as plain SQL, one transaction each."""
    import psycopg
    from django.db import connection

    from bieb.customers.numbers import compose_number

    params = dict(connection.get_connection_params())
    conn = psycopg.connect(**params)
    text_body = "x" * 700
    html_body = "<p>" + "x" * 1800 + "</p>"
    started = time.perf_counter()
    for _ in range(n):
        d = _details(rng)
        now = dt.datetime.now(dt.UTC)
        with conn.transaction():
            (seq,) = conn.execute(
                "UPDATE customers_customernumbersequence SET last_value = last_value + 1 "
                "WHERE library_id = %s RETURNING last_value",
                [library.pk],
            ).fetchone()
            number = compose_number(
                prefix=library.customer_number_prefix,
                sequence=seq,
                length=library.customer_number_length,
            )
            account_id = uuid.uuid4()  # the customer refers to its login account by this id
            (customer_id,) = conn.execute(
                "INSERT INTO customers_customer (library_id, number, salutation, initials, "
                "prefix, surname, first_name, birth_date, country, postcode, house_number, "
                "house_letter, house_addition, iban, bic, identity_checked, identity_document, "
                "email, newsletter, newsletter_consent_at, uses_login_account, login_account_id, "
                "login_account_lapsed, registered_branch_id, registration_key, created_at, "
                "created_by_id, updated_at) "
                "VALUES (%s, %s, %s, %s, '', %s, %s, %s, 'NL', %s, %s, '', '', '', '', true, "
                "%s, %s, false, NULL, true, %s, false, %s, %s, %s, %s, %s) RETURNING id",
                [
                    library.pk,
                    number,
                    d.salutation,
                    d.initials,
                    d.surname,
                    d.first_name,
                    d.birth_date,
                    d.postcode,
                    d.house.number,
                    d.identity_document,
                    d.email,
                    account_id,
                    branch.pk,
                    uuid.uuid4(),
                    now,
                    staff.pk,
                    now,
                ],
            ).fetchone()
            (membership_id,) = conn.execute(
                "INSERT INTO customers_membership (library_id, customer_id, subscription_type_id, "
                "tariff_id, discount_id, branch_id, start_date, expiry_month, valid_through, "
                "status, created_at, cancel_reason) "
                "VALUES (%s, %s, %s, %s, NULL, %s, %s, %s, %s, 'actief', %s, '') "
                "RETURNING id",
                [
                    library.pk,
                    customer_id,
                    subscription.pk,
                    tariff.pk,
                    branch.pk,
                    now.date(),
                    11,
                    dt.date(now.year + 1, 11, 30),
                    now,
                ],
            ).fetchone()
            valid_through = dt.date(now.year + 1, 11, 30)
            (period_id,) = conn.execute(
                "INSERT INTO customers_membershipperiod (library_id, membership_id, "
                'subscription_type_id, tariff_id, discount_id, start, "end", fee, '
                "discount_amount, state, renewal_run_id, created_at, booked_at, mailed_at, "
                "reminders_sent, reminded_at) "
                "VALUES (%s, %s, %s, %s, NULL, %s, %s, 64.50, 0, 'geboekt', NULL, %s, %s, %s, "
                "0, NULL) RETURNING id",
                [
                    library.pk,
                    membership_id,
                    subscription.pk,
                    tariff.pk,
                    now.date(),
                    valid_through,
                    now,
                    now,
                    now,
                ],
            ).fetchone()
            conn.execute(
                "INSERT INTO customers_ledgerline (library_id, customer_id, membership_id, "
                "period_id, kind, amount, method, description, booked_at, booked_by_id, reason) "
                "VALUES (%s, %s, %s, %s, 'abonnementskosten', 64.50, '', %s, %s, %s, '')",
                [
                    library.pk,
                    customer_id,
                    membership_id,
                    period_id,
                    "0110 Volwassen Compleet",
                    now,
                    staff.pk,
                ],
            )
            (call_id,) = conn.execute(
                "INSERT INTO kboutbox_kbcall (kind, library_id, customer_id, ordering_key, "
                "payload, idempotency_key, actor, state, attempts, next_attempt_at, "
                "last_attempt_at, unavailable, last_error, result, created_at, finished_at) "
                "VALUES ('account_create', %s, %s, %s, %s, %s, %s, 'pending', 0, %s, NULL, "
                "false, '', '{}', %s, NULL) RETURNING id",
                [
                    library.pk,
                    customer_id,
                    f"customer:{customer_id}",
                    json.dumps({"email": d.email, "account_id": str(account_id)}),
                    uuid.uuid4(),
                    staff.username,
                    now,
                    now,
                ],
            ).fetchone()
            conn.execute(
                "INSERT INTO audit_auditevent (at, actor_id, actor_name, library_id, action, "
                "object_type, object_id, data) VALUES (%s, %s, %s, %s, 'customer.registered', "
                "'customers.customer', %s, %s)",
                [
                    now,
                    staff.pk,
                    staff.username,
                    library.pk,
                    str(customer_id),
                    json.dumps({"number": number, "branch": branch.number, "fee": "64.50"}),
                ],
            )
        # The KB's transaction, after the library's has committed (the design since issue 14).
        with conn.transaction():
            conn.execute(
                "INSERT INTO kb_loginaccount (id, username, email, email_verified, state, origin, "
                "password, activation_deadline, link_version, activated_at, last_login, "
                "created_at, email_link_version, pending_email, session_version) "
                "VALUES (%s, %s, %s, false, 'wacht', 'balie', '', %s, 0, NULL, NULL, %s, 0, '', 0)",
                [account_id, number, d.email, now + dt.timedelta(hours=24), now],
            )
            conn.execute(
                "INSERT INTO kb_linkedmembership (account_id, library_code, library_name, "
                "customer_number, subscription_code, digital_rights, valid_through, linked_at, "
                "state, pay_url, physical_loans) "
                "VALUES (%s, %s, %s, %s, '0110', 'volledig', %s, %s, 'actief', '', true)",
                [
                    account_id,
                    library.code,
                    library.name,
                    number,
                    valid_through,
                    now,
                ],
            )
            conn.execute(
                "INSERT INTO kb_accountevent (at, account_id, username, event, actor, ip, data) "
                "VALUES (%s, %s, %s, 'account.created', %s, NULL, '{}')",
                [now, account_id, number, staff.username],
            )
            (message_id,) = conn.execute(
                'INSERT INTO mail_outboxmessage ("to", subject, text_body, html_body, kind, '
                "reference, status, attempts, next_attempt_at, last_error, created_at, sent_at, "
                "message_id) "
                "VALUES (%s, %s, %s, %s, 'kb.activation', %s, 'wachtrij', 0, %s, '', %s, NULL, "
                "%s) RETURNING id",
                [
                    d.email,
                    "Activeer je inlogaccount",
                    text_body,
                    html_body,
                    str(account_id),
                    now,
                    now,
                    make_msgid(domain="bieb.example"),
                ],
            ).fetchone()
            conn.execute(
                "UPDATE kboutbox_kbcall SET state = 'done', attempts = 1, last_attempt_at = %s, "
                "next_attempt_at = NULL, finished_at = %s, result = %s WHERE id = %s",
                [now, now, json.dumps({"account_id": str(account_id)}), call_id],
            )
        conn.execute(
            "INSERT INTO django_tasks_database_dbtaskresult (id, status, enqueued_at, started_at, "
            "finished_at, args_kwargs, priority, task_path, worker_ids, queue_name, backend_name, "
            "run_after, return_value, exception_class_path, traceback) VALUES (%s, 'READY', %s, "
            "NULL, NULL, %s, 0, 'bieb.mail.tasks.mail_send_task', '[]', 'default', 'default', "
            "'9999-01-01 00:00:00+00', NULL, '', '')",
            [uuid.uuid4(), now, json.dumps({"args": [], "kwargs": {"message_id": message_id}})],
        )
        conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def run(scale: float) -> list[Figure]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bieb.customers.services import customer_register
    from bieb.libraries.models import SubscriptionType, Tariff

    library = bench_library(LIBRARY_INDEX)
    staff = bench_staff(library)
    branch = staff.branch
    branch.library = library
    subscription = SubscriptionType.objects.get(library=library, code="0110")
    tariff = Tariff.objects.get(library=library, code="0002")
    rng = random.Random()  # new names every run: the same ones would be likely duplicates
    n = max(20, round(400 * scale))

    def register():
        return customer_register(
            actor=staff,
            branch=branch,
            details=_details(rng),
            subscription_type=subscription,
            tariff=tariff,  # the counter's form always has the Tariefcode filled in
            registration_key=uuid.uuid4(),
        )

    for _ in range(5):  # warm up
        register()
    with CaptureQueriesContext(connection) as queries:
        register()
    logged = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
    statements = sum(word not in TRANSACTION_CONTROL for word in logged)
    control = len(logged) - statements

    ours = plain = 0.0
    rounds = 4
    per_round = n // rounds
    for _ in range(rounds):
        plain += _plain_sql(per_round, library, branch, subscription, tariff, staff, rng)
        started = time.perf_counter()
        for _ in range(per_round):
            register()
        ours += time.perf_counter() - started
    done = per_round * rounds
    ours_rate, plain_rate = done / ours, done / plain
    ratio = ours / plain
    return [
        Figure(
            "1 registration",
            "counter registrations, customer_register, one process",
            ours_rate,
            "/s",
            "same rows in plain SQL, the same transactions",
            plain_rate,
            ratio,
            "time ratio <= 2",
            ratio <= 2,
        ),
        Figure("1 registration", "time per registration", ours / done * 1000, "ms"),
        Figure(
            "1 registration",
            f"SQL statements per registration (+{control} transaction control)",
            statements,
            "",
        ),
    ]


if __name__ == "__main__":
    main(run)
