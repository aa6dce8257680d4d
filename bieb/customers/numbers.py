"""Customer numbers: library prefix + sequence + Luhn check digit (14 digits by default)."""

from django.core.exceptions import ValidationError
from django.db.models import F
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

    The increment locks the library's sequence row until commit, so concurrent registrations
    get distinct numbers on PostgreSQL; a rolled-back registration gives its number back.
    """
    CustomerNumberSequence.objects.get_or_create(library=library)
    while True:
        CustomerNumberSequence.objects.filter(library=library).update(
            last_value=F("last_value") + 1
        )
        sequence = CustomerNumberSequence.objects.values_list("last_value", flat=True).get(
            library=library
        )
        number = compose_number(
            prefix=library.customer_number_prefix,
            sequence=sequence,
            length=library.customer_number_length,
        )
        # A scanned card may already carry this number; skip it rather than fail.
        if not Customer.objects.filter(number=number).exists():
            return number
