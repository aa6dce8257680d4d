"""The inputs of the counter's forms, described once so that every template renders them the
same way: each with its <label>, its value as typed, its error and the right keyboard."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone

from bieb.customers.details import LABELS
from bieb.customers.models import Customer, IdentityDocument, Salutation
from bieb.customers.validators import country_choices, format_iban

YES_NO = [("ja", "Ja"), ("nee", "Nee")]


@dataclass
class Field:
    name: str
    label: str
    kind: str = "text"  # text, email, select, yesno, checkbox
    value: str = ""
    errors: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)
    help: str = ""
    size: str = "medium"  # short, medium, long: the input's width
    autocomplete: str = "off"
    inputmode: str = ""
    placeholder: str = ""
    autofocus: bool = False
    extra: str = ""  # a template to render next to the input (e.g. the number button)
    # "name=value": shown only while that radio is chosen (counter.js; without script, always).
    shown_by: str = ""
    shown: bool = True  # as the page comes: hidden while the radio it follows is not chosen

    @property
    def id(self) -> str:
        return f"id_{self.name}"

    @property
    def label_main(self) -> str:
        """`Geboortedatum` of `Geboortedatum (dd-mm-jjjj)`: the part that may wrap."""
        return self.label.split(" (", 1)[0]

    @property
    def label_note(self) -> str:
        """`(dd-mm-jjjj)`: kept on one line."""
        parts = self.label.split(" (", 1)
        return f"({parts[1]}" if len(parts) > 1 else ""


# The customer form, in the order of the Wise screen.
CUSTOMER_FIELDS = [
    "salutation",
    "initials",
    "prefix",
    "surname",
    "first_name",
    "birth_date",
    "country",
    "postcode",
    "house_number",
    "iban",
    "bic",
    "identity_checked",
    "identity_document",
    "use_login_account",
    "email",
    "newsletter",
]

NEW_CUSTOMER_DEFAULTS = {
    "country": "NL",
    "identity_checked": "nee",
    "use_login_account": "ja",
}


# "Machtiging automatische incasso", right after IBAN and BIC, when the library collects.
MANDATE_FIELDS = ["mandate", "mandate_signed_on", "mandate_holder"]
MANDATE_LABELS = {
    "mandate": "Machtiging automatische incasso",
    "mandate_signed_on": "Datum ondertekening (dd-mm-jjjj)",
    "mandate_holder": "Naam rekeninghouder",
}


def _spec(name: str) -> Field:
    match name:
        case "mandate":
            return Field(
                name,
                MANDATE_LABELS[name],
                kind="yesno",
                options=YES_NO,
                help="Ja: de klant tekent een machtiging; de IBAN hierboven is het rekeningnummer.",
            )
        case "mandate_signed_on":
            return Field(
                name,
                MANDATE_LABELS[name],
                size="short",
                placeholder="dd-mm-jjjj",
                shown_by="mandate=ja",
            )
        case "mandate_holder":
            return Field(
                name,
                MANDATE_LABELS[name],
                size="long",
                help="Leeg laten: de naam van de klant (voorletters en achternaam).",
                shown_by="mandate=ja",
            )
    label = LABELS[name]
    match name:
        case "number":
            return Field(
                name,
                label,
                size="medium",
                help="Scan de pas, of typ v en Enter om een klantnummer te laten genereren.",
                extra="counter/_number_button.html",
            )
        case "salutation":
            choices = [(str(c.value), str(c.label)) for c in Salutation]
            choices = [("", "—"), *[c for c in choices if c[0]]]
            return Field(name, label, kind="select", options=choices, size="short")
        case "initials":
            return Field(name, label, size="short", placeholder="E.B.")
        case "prefix":
            return Field(name, label, size="short")
        case "surname" | "first_name":
            return Field(name, label, size="long")
        case "birth_date":
            return Field(name, label, size="short", placeholder="dd-mm-jjjj")
        case "country":
            return Field(name, label, kind="select", options=country_choices(), size="medium")
        case "postcode":
            return Field(name, label, size="short", placeholder="9468 BG")
        case "house_number":
            return Field(
                name, label, size="short", help="Met eventueel letter en toevoeging: 41A-2."
            )
        case "iban":
            return Field(name, label, size="long")
        case "bic":
            return Field(
                name,
                label,
                size="short",
                help="Leeg laten: wordt bij een Nederlandse IBAN ingevuld.",
            )
        case "identity_checked" | "use_login_account":
            help_text = ""
            if name == "use_login_account":
                help_text = (
                    "Nee kan niet bij een abonnement met digitale rechten: dan kan de klant de "
                    "Online Bibliotheek niet gebruiken."
                )
            return Field(name, label, kind="yesno", options=YES_NO, help=help_text)
        case "identity_document":
            choices = [("", "—")] + [
                (str(c.value), str(c.label)) for c in IdentityDocument if c.value
            ]
            return Field(name, label, kind="select", options=choices, size="medium")
        case "email":
            return Field(name, label, kind="email", size="long", inputmode="email")
        case "newsletter":
            return Field(name, label, kind="checkbox", help="Alleen met toestemming van de klant.")
    raise KeyError(name)


def build_fields(
    names: list[str],
    values: Mapping[str, str],
    errors: Mapping[str, list[str]],
    *,
    focus: str = "",
) -> list[Field]:
    fields = []
    for name in names:
        spec = _spec(name)
        spec.value = values.get(name, "")
        spec.errors = list(errors.get(name, []))
        spec.autofocus = name == focus
        if spec.shown_by:
            other, chosen = spec.shown_by.split("=", 1)
            spec.shown = values.get(other, "") == chosen
        fields.append(spec)
    return fields


def raw_values(data: Mapping[str, str], names: list[str]) -> dict[str, str]:
    """What was typed, as typed (so that nothing is lost when the form comes back)."""
    return {name: str(data.get(name, "")) for name in names}


def error_lists(error: ValidationError) -> dict[str, list[str]]:
    """Messages by field; messages without a field under "" ."""
    if hasattr(error, "error_dict"):
        return {("" if k == "__all__" else k): v for k, v in error.message_dict.items()}
    return {"": list(error.messages)}


def customer_values(customer: Customer) -> dict[str, str]:
    """A saved customer as the form shows it."""
    return {
        "salutation": customer.salutation,
        "initials": customer.initials,
        "prefix": customer.prefix,
        "surname": customer.surname,
        "first_name": customer.first_name,
        "birth_date": customer.birth_date.strftime("%d-%m-%Y"),
        "country": customer.country,
        "postcode": customer.postcode_display,
        "house_number": str(customer.house or ""),
        "iban": format_iban(customer.iban),
        "bic": customer.bic,
        "identity_checked": "ja" if customer.identity_checked else "nee",
        "identity_document": customer.identity_document,
        "email": customer.email,
        "newsletter": "on" if customer.newsletter else "",
    }


def first_error(names: list[str], errors: Mapping[str, list[str]]) -> str:
    return next((name for name in names if errors.get(name)), "")


def local_moment(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%d-%m-%Y %H:%M") if moment else ""
