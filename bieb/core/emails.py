"""E-mail addresses as members and staff type them: one check for the library side (customers)
and the login service (kb), which may both use core but not each other."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

_email_validator = EmailValidator()


def email_clean(value: object, *, required: bool = False) -> str:
    """An e-mail address as typed at the sign-up: whitespace collapsed, Unicode composed (NFC),
    the domain in lower case; ValidationError in Dutch when it is missing (and `required`) or
    not an address."""
    text = "" if value is None else " ".join(unicodedata.normalize("NFC", str(value)).split())
    if not text:
        if required:
            raise ValidationError(
                "Vul het e-mailadres in: daar komt de mail om het inlogaccount te activeren.",
                code="required",
            )
        return ""
    if len(text) > 254 or " " in text:
        raise ValidationError("Dit e-mailadres is niet geldig; controleer het.", code="invalid")
    try:
        _email_validator(text)
    except ValidationError:
        raise ValidationError(
            "Dit e-mailadres is niet geldig; het ziet eruit als naam@voorbeeld.nl.",
            code="invalid",
        ) from None
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"
