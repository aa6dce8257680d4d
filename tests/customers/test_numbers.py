import threading

import pytest
from django.db import close_old_connections, connection, transaction
from stdnum import luhn

from bieb.customers.models import Customer, CustomerNumberSequence
from bieb.customers.numbers import compose_number, customer_number_allocate
from bieb.customers.services import customer_register
from bieb.libraries.models import Branch, Library, SubscriptionType
from bieb.staff.models import User
from tests.customers.factories import details


def test_numbers_are_prefix_sequence_and_luhn_digit() -> None:
    number = compose_number(prefix="25280", sequence=1, length=14)
    assert number == "2528000000001" + luhn.calc_check_digit("2528000000001")
    assert len(number) == 14
    assert luhn.is_valid(number)


@pytest.mark.django_db
def test_allocation_counts_up_per_library(bind: Library, oost: Library) -> None:
    with transaction.atomic():
        first = customer_number_allocate(library=bind)
        second = customer_number_allocate(library=bind)
        other = customer_number_allocate(library=oost)
    assert first.startswith("25280") and second.startswith("25280")
    assert int(second[:-1]) == int(first[:-1]) + 1
    assert other.startswith("26100")
    assert all(luhn.is_valid(n) and len(n) == 14 for n in (first, second, other))


@pytest.mark.django_db
def test_a_number_already_taken_by_a_scanned_card_is_skipped(
    balie: User, branch_5280: Branch, adult: SubscriptionType, bind: Library
) -> None:
    with transaction.atomic():
        expected_next = customer_number_allocate(library=bind)
        transaction.set_rollback(True)
    customer_register(
        actor=balie,
        branch=branch_5280,
        details=details(surname="Kaart"),
        subscription_type=adult,
        card_number=expected_next,
    )
    generated = customer_register(
        actor=balie, branch=branch_5280, details=details(), subscription_type=adult
    )
    assert generated.customer.number != expected_next
    assert luhn.is_valid(generated.customer.number)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_registrations_get_distinct_valid_numbers(
    balie: User, branch_5280: Branch, digital_only: SubscriptionType
) -> None:
    workers = 16
    barrier = threading.Barrier(workers)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def register(i: int) -> None:
        try:
            barrier.wait()
            registration = customer_register(
                actor=balie,
                branch=branch_5280,
                details=details(surname=f"Parallel{chr(65 + i)}", email=f"p{i}@example.nl"),
                subscription_type=digital_only,
            )
            numbers.append(registration.customer.number)
        except BaseException as error:
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=register, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(numbers) == workers
    assert len(set(numbers)) == workers
    assert all(luhn.is_valid(n) and len(n) == 14 and n.startswith("25280") for n in numbers)
    assert Customer.objects.filter(number__in=numbers).count() == workers


@pytest.mark.django_db
def test_a_library_without_a_sequence_starts_at_one(bind: Library) -> None:
    CustomerNumberSequence.objects.filter(library=bind).delete()
    assert customer_number_allocate(library=bind) == compose_number(
        prefix="25280", sequence=1, length=14
    )
    assert CustomerNumberSequence.objects.get(library=bind).last_value == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_allocations_outside_a_transaction_get_distinct_numbers(bind: Library) -> None:
    """Each allocation is atomic on its own: no caller's transaction needed for distinct numbers
    (the increment and the read are one statement)."""
    workers, each = 8, 25
    barrier = threading.Barrier(workers)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def allocate() -> None:
        try:
            barrier.wait()
            numbers.extend(customer_number_allocate(library=bind) for _ in range(each))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(numbers) == len(set(numbers)) == workers * each
    assert all(luhn.is_valid(n) and n.startswith("25280") for n in numbers)
