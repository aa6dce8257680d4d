"""Customer numbers: library prefix + sequence + Luhn check digit (14 digits by default)."""

from django.core.exceptions import ValidationError
from django.db import connection
from stdnum import luhn

from bieb.customers.models import Customer, CustomerNumberSequence
from bieb.libraries.models import Library


def compose_number(*, prefix: str, sequence: int, length: int) -> str:
    width = length - len(prefix) - 1
    body = f"{prefix}{sequence:0{width}d}"
    if len(body) != length - 1:
        raise ValidationError(
            {"number": "De klantnummers van deze bibliotheek zijn op; vraag de beheerder."}
        )
    return body + luhn.calc_check_digit(body)


def customer_number_allocate(*, library: Library) -> str:
    """Hand out the next free number; call inside the registration's transaction.

    The increment is one statement, so it is atomic also when called outside a transaction. It
    locks the library's sequence row until the caller's transaction commits: concurrent
    registrations for one library get distinct numbers and wait for each other there, and a
    rolled-back registration gives its number back.
    """
    prefix = library.customer_number_prefix
    length = library.customer_number_length
    while True:
        sequence, taken = _sequence_next(library, width=length - len(prefix) - 1)
        number = compose_number(prefix=prefix, sequence=sequence, length=length)
        # A scanned card may already carry this number; skip it rather than fail.
        if taken is None:
            taken = Customer.objects.filter(number=number).exists()
        if not taken:
            return number


_NEXT = (
    "UPDATE {sequences} SET last_value = last_value + 1 WHERE library_id = %(library)s "
    "RETURNING last_value"
)
# On PostgreSQL the same statement tells whether a customer already has the number (with any
# check digit), which saves a round trip while the row is locked.
_NEXT_AND_TAKEN = (
    "UPDATE {sequences} SET last_value = last_value + 1 WHERE library_id = %(library)s "
    "RETURNING last_value, EXISTS (SELECT 1 FROM {customers} WHERE number"
    " BETWEEN %(prefix)s || lpad(last_value::text, %(width)s, '0') || '0'"
    " AND %(prefix)s || lpad(last_value::text, %(width)s, '0') || '9')"
)


def _sequence_next(library: Library, *, width: int) -> tuple[int, bool | None]:
    """The library's sequence incremented and read in one statement (UPDATE ... RETURNING),
    and on PostgreSQL whether that number is taken (None: not known)."""
    postgres = connection.vendor == "postgresql"
    sql = (_NEXT_AND_TAKEN if postgres else _NEXT).format(
        sequences=connection.ops.quote_name(CustomerNumberSequence._meta.db_table),
        customers=connection.ops.quote_name(Customer._meta.db_table),
    )
    params: dict[str, int | str] = {"library": library.pk}
    if postgres:
        params.update(prefix=library.customer_number_prefix, width=width)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:  # a library's first number: its sequence starts here
        CustomerNumberSequence.objects.get_or_create(library=library)
        return _sequence_next(library, width=width)
    return int(row[0]), (bool(row[1]) if postgres else None)
