"""The personal details of a customer as typed at the counter or online, validated as a whole."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields

from django.core.exceptions import ValidationError

from bieb.customers import validators as v
from bieb.customers.models import IdentityDocument, Salutation

# The form labels, as in Wise; errors are keyed by these field names.
LABELS = {
    "number": "Klantnummer",
    "salutation": "Aanhef",
    "initials": "Voorletters",
    "prefix": "Voorvoegsel",
    "surname": "Achternaam",
    "first_name": "Roepnaam",
    "birth_date": "Geboortedatum (dd-mm-jjjj)",
    "country": "Land",
    "postcode": "Postcode",
    "house_number": "Huisnummer",
    "iban": "IBAN",
    "bic": "BIC",
    "identity_checked": "Legitimatie gecontroleerd?",
    "identity_document": "Soort legitimatie",
    "use_login_account": "Gebruik inlogaccount",
    "email": "E-mail",
    "newsletter": "Nieuwsbrief",
    "subscription_type": "Type abonnement",
    "tariff": "Tariefcode",
    "discount": "Korting",
}

_YES = {"ja", "j", "yes", "true", "1", "on"}
_NO = {"nee", "n", "no", "false", "0", "off", ""}


@dataclass(frozen=True)
class CustomerDetails:
    initials: str
    surname: str
    birth_date: dt.date
    salutation: str = ""
    prefix: str = ""
    first_name: str = ""
    country: str = "NL"
    postcode: str = ""
    house: v.HouseNumber | None = None
    iban: str = ""
    bic: str = ""
    identity_checked: bool = False
    identity_document: str = ""
    email: str = ""
    newsletter: bool = False

    @property
    def display_name(self) -> str:
        salutation = Salutation(self.salutation).label if self.salutation else ""
        parts = [salutation, self.initials, self.prefix, self.surname]
        return " ".join(p for p in parts if p)

    def model_fields(self) -> dict[str, object]:
        """The values as Customer model fields."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "house"}
        values["house_number"] = self.house.number if self.house else None
        values["house_letter"] = self.house.letter if self.house else ""
        values["house_addition"] = self.house.addition if self.house else ""
        return values


def clean_yes_no(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValidationError("Kies Ja of Nee.", code="invalid")


def _choice(value: object, choices: type[Salutation] | type[IdentityDocument]) -> str:
    text = str(value if value is not None else "").strip().lower().rstrip(".")
    for choice in choices:
        if text in {choice.value, str(choice.label).lower().rstrip(".")}:
            return str(choice.value)
    raise ValidationError("Kies een waarde uit de lijst.", code="invalid")


class FieldsCleaned:
    """A form's fields as they are cleaned one by one: the good values in `out`, each wrong
    field's errors in `errors` (so that a form can show them all and keep the input)."""

    def __init__(self) -> None:
        self.errors: dict[str, list[ValidationError]] = {}
        self.out: dict[str, object] = {}

    def take(self, name: str, func: object, *args: object, **kwargs: object) -> object:
        """`func(*args, **kwargs)` as the value of `name`; None, with the error kept, when
        it raises ValidationError."""
        try:
            value = func(*args, **kwargs)  # type: ignore[operator]
        except ValidationError as error:
            self.errors.setdefault(name, []).append(error)
            return None
        self.out[name] = value
        return value


def customer_details_clean(
    raw: Mapping[str, object], *, today: dt.date, email_required: bool = False
) -> CustomerDetails:
    """Validate every field of `raw` and return the details, or raise one ValidationError that
    maps each wrong field to its Dutch message (so a form can show them all and keep the input)."""
    fields_ = FieldsCleaned()
    errors, out, take = fields_.errors, fields_.out, fields_.take

    get = raw.get
    take("salutation", _choice, get("salutation"), Salutation)
    take("initials", v.clean_initials, get("initials"))
    take("prefix", v.clean_prefix, get("prefix"))
    take("surname", v.clean_surname, get("surname"))
    take("first_name", v.clean_first_name, get("first_name"))
    take("birth_date", v.clean_birth_date, get("birth_date"), today=today)
    country = take("country", v.clean_country, get("country"))
    if isinstance(country, str):
        take("postcode", v.clean_postcode, get("postcode"), country=country)
        take("house", v.clean_house_number, get("house_number"), required=country == "NL")
        if "house" not in out:
            errors["house_number"] = errors.pop("house", [])
    iban = take("iban", v.clean_iban, get("iban"))
    if isinstance(iban, str):
        take("bic", v.clean_bic, get("bic"), iban=iban)
    take("identity_checked", clean_yes_no, get("identity_checked"))
    take("identity_document", _choice, get("identity_document"), IdentityDocument)
    take("email", v.clean_email, get("email"), required=email_required)
    take("newsletter", clean_yes_no, get("newsletter"))
    if errors:
        raise ValidationError(errors)
    return CustomerDetails(**out)  # type: ignore[arg-type]
