"""Direct-debit mandates at the counter: what the registration form and the customer page show
of them, and how the counter's fields read.

At the registration, right after IBAN and BIC and only when the library collects: "Machtiging
automatische incasso" Ja/Nee (Nee unless chosen), and with Ja "Datum ondertekening" (today
unless typed) and "Naam rekeninghouder" (the customer's initials, prefix and surname when left
empty). The mandate itself is made by `mandate_create` in the registration's transaction
(bieb.counter.registration); here only the fields are read, so that what is wrong is said next
to the field before OK.

On the customer page the section "Machtigingen" lists the customer's mandates at this library
with their history, and offers 'Intrekken', 'Weer activeren' and 'Machtiging vastleggen'
(views in bieb.counter.mandates). The rules stay in bieb.debits.services: the page only offers
what they allow and shows their refusals.
"""

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from bieb.core.dates import local_today
from bieb.counter.access import Desk
from bieb.counter.fields import error_lists
from bieb.counter.year_page import _form
from bieb.customers.details import CustomerDetails, clean_yes_no
from bieb.customers.models import Customer
from bieb.customers.validators import format_iban
from bieb.debits.models import MandateState
from bieb.debits.selectors import customer_mandates
from bieb.debits.services import HOLDER_MAX

DATE_RE = re.compile(r"^\s*(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})\s*$")
DATE_COMPACT_RE = re.compile(r"^\s*(\d{2})(\d{2})(\d{4})\s*$")
IBAN_FOR_MANDATE = "Vul de IBAN in voor de machtiging."
# mandate_create's field names as the registration form names them
REGISTRATION_NAMES = {"holder_name": "mandate_holder", "signed_on": "mandate_signed_on"}


@dataclass(frozen=True)
class MandateAtRegistration:
    signed_on: dt.date
    holder_name: str


def signed_on_parse(text: str, *, today: dt.date) -> dt.date:
    """'Datum ondertekening' as typed (dd-mm-jjjj, also 1-6-2026 or 01062026); not in the
    future."""
    if not text.strip():
        raise ValidationError("Vul de datum van ondertekening in als dd-mm-jjjj.", code="required")
    match = DATE_RE.match(text) or DATE_COMPACT_RE.match(text)
    if not match:
        raise ValidationError(
            f"Typ de datum van ondertekening als dd-mm-jjjj, bijvoorbeeld {today:%d-%m-%Y}.",
            code="invalid",
        )
    d, m, y = (int(g) for g in match.groups())
    try:
        day = dt.date(y, m, d)
    except ValueError:
        raise ValidationError(
            f"{d:02d}-{m:02d}-{y:04d} bestaat niet; controleer dag en maand.", code="invalid"
        ) from None
    if day > today:
        raise ValidationError(
            "De datum van ondertekening kan niet in de toekomst liggen.", code="future"
        )
    return day


def holder_default(*, initials: str, prefix: str, surname: str) -> str:
    """The account holder when left empty: the customer's initials, prefix and surname."""
    return " ".join(part for part in (initials, prefix, surname) if part)


def registration_mandate_clean(
    values: dict[str, str], *, details: CustomerDetails | None, today: dt.date
) -> tuple[MandateAtRegistration | None, dict[str, list[str]]]:
    """The registration's mandate fields: the mandate to make (None for Nee) and the errors by
    field. `values` (as typed) is brought to what will be saved: Ja/Nee, the date as
    dd-mm-jjjj and the holder filled in. `details` is None while the customer's own fields are
    wrong; then only what can be checked is."""
    errors: dict[str, list[str]] = {}
    try:
        wanted = clean_yes_no(values.get("mandate", ""))
    except ValidationError as error:
        return None, {"mandate": list(error.messages)}
    values["mandate"] = "ja" if wanted else "nee"
    if not wanted:
        return None, {}
    if not values.get("iban", "").strip():
        errors["iban"] = [IBAN_FOR_MANDATE]
    signed_on = None
    try:
        signed_on = signed_on_parse(values.get("mandate_signed_on", ""), today=today)
        values["mandate_signed_on"] = signed_on.strftime("%d-%m-%Y")
    except ValidationError as error:
        errors["mandate_signed_on"] = list(error.messages)
    holder = " ".join(values.get("mandate_holder", "").split())
    if not holder and details is not None:
        holder = holder_default(
            initials=details.initials, prefix=details.prefix, surname=details.surname
        )
    if len(holder) > HOLDER_MAX:
        errors["mandate_holder"] = [f"Gebruik hoogstens {HOLDER_MAX} tekens."]
    values["mandate_holder"] = holder
    if errors or signed_on is None or not holder:
        return None, errors
    return MandateAtRegistration(signed_on=signed_on, holder_name=holder), {}


def registration_errors(error: ValidationError) -> dict[str, list[str]]:
    """`mandate_create`'s refusal by the registration form's field names (a BIC the IBAN's
    bank does not have is said at BIC, the rest at the mandate's own fields)."""
    return {REGISTRATION_NAMES.get(k, k): v for k, v in error_lists(error).items()}


def mandate_page_context(
    desk: Desk, customer: Customer, *, action: dict[str, Any] | None
) -> dict[str, Any]:
    """The section "Machtigingen": shown when the library collects or the customer has
    mandates here; per mandate its data, history and what can be done; the form of a new one
    when none is active."""
    library = desk.library
    mandates = list(customer_mandates(library=library, customer=customer))
    has_active = any(m.state == MandateState.ACTIVE for m in mandates)
    rows = [
        {
            "mandate": mandate,
            "iban": format_iban(mandate.iban),
            "original_iban": format_iban(mandate.original_iban),
            "events": list(mandate.events.all()),
            "can_withdraw": mandate.state == MandateState.ACTIVE,
            "can_reactivate": mandate.state == MandateState.BLOCKED and not has_active,
            "withdraw": _form(action, "mandate_withdraw", mandate.pk, reason=""),
            "reactivate": _form(action, "mandate_reactivate", mandate.pk),
        }
        for mandate in mandates
    ]
    new = _form(
        action,
        "mandate_create",
        None,
        iban=format_iban(customer.iban),
        holder_name=holder_default(
            initials=customer.initials, prefix=customer.prefix, surname=customer.surname
        ),
        signed_on=local_today().strftime("%d-%m-%Y"),
    )
    return {
        "mandates_shown": library.debits_enabled or bool(mandates),
        "mandate_rows": rows,
        "mandate_new": new,
        "can_create_mandate": library.debits_enabled and not has_active,
    }
