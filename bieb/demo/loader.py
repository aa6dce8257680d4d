"""The demo data named in DESIGN.md (`bieb demo`). Loading it twice changes nothing."""

from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import models, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from bieb.core.demo_logins import ADMIN, DEMO_TOTP_DEVICE, DEMO_TOTP_KEY
from bieb.core.hashers import configured_hash, configured_matches
from bieb.customers.models import CustomerNumberSequence
from bieb.libraries.models import (
    Branch,
    DigitalRights,
    Discount,
    DiscountKind,
    Library,
    RenewalKind,
    SubscriptionType,
    Tariff,
    TariffKind,
)
from bieb.libraries.services import library_publish
from bieb.staff.models import User

LIBRARIES = [
    {
        "code": "bind",
        "name": "Bibliotheken Bind",
        "customer_number_prefix": "25280",
        "branches": [("5280", "Bind Centrale"), ("5281", "Bind Noord")],
        "contact_address": "Stationsstraat 1, 9401 KX Assen",
        "contact_phone": "0592 123 456",
        "contact_email": "info@bind.example",
        "website": "https://www.bind.example/",
        # Collects by direct debit (an Incassant-ID with valid check digits, not a real one).
        "creditor_id": "NL69ZZZ123456780000",
        "creditor_iban": "NL44RABO0123456789",
        "creditor_bic": "RABONL2U",
    },
    {
        "code": "oost",
        "name": "Bibliotheek Oost",
        "customer_number_prefix": "26100",
        "branches": [("6100", "Oost Centrum")],
        "contact_address": "Marktplein 2, 7511 AB Enschede",
        "contact_phone": "053 765 4321",
        "contact_email": "info@oost.example",
        "website": "https://www.oost.example/",
    },
]

SUBSCRIPTION_TYPES: list[dict[str, Any]] = [
    {
        "code": "0141",
        "name": "Digital only",
        "price": Decimal("42.00"),
        "period_months": 12,
        "renewal": RenewalKind.FIXED,
        "min_age": 18,
        "max_age": None,
        "digital_rights": DigitalRights.COMPLETE,
        "physical_loans": False,
        "card": False,
        "login_account_required": True,
        "offered_online": True,
    },
    {
        "code": "0101",
        "name": "Jeugd",
        "price": Decimal("0.00"),
        "period_months": 12,
        "renewal": RenewalKind.AUTOMATIC,
        "min_age": 0,
        "max_age": 17,
        "digital_rights": DigitalRights.YOUTH,
        "physical_loans": True,
        "card": True,
        "login_account_required": False,
        "offered_online": False,
        # Turning 18 at renewal: on to the adult subscription (and its tariff).
        "successor": "0110",
    },
    {
        "code": "0110",
        "name": "Volwassen Compleet",
        "price": Decimal("64.50"),
        "period_months": 12,
        "renewal": RenewalKind.AUTOMATIC,
        "min_age": 18,
        "max_age": None,
        "digital_rights": DigitalRights.COMPLETE,
        "physical_loans": True,
        "card": True,
        "login_account_required": False,
        "offered_online": True,
    },
]

TARIFFS = [
    {"code": "0001", "name": "gratis", "kind": TariffKind.FREE, "is_default": False},
    {"code": "0002", "name": "standaard", "kind": TariffKind.STANDARD, "is_default": True},
]

DISCOUNTS = [
    {"code": "CJP", "name": "CJP-korting", "kind": DiscountKind.PERCENTAGE, "value": Decimal(25)},
    {"code": "PAS", "name": "Stadspas", "kind": DiscountKind.AMOUNT, "value": Decimal(10)},
]

STAFF: list[dict[str, Any]] = [
    {"username": "balie", "library": "bind", "branch": "5280", "first_name": "Balie"},
    {"username": "balie-oost", "library": "oost", "branch": "6100", "first_name": "Balie Oost"},
    # A counter user who also has the finance permission and the statistics role.
    {
        "username": "manager",
        "library": "bind",
        "branch": "5280",
        "first_name": "Manager",
        "permissions": ["finance", "statistics"],
    },
]
CONTACT = ("contact_address", "contact_phone", "contact_email", "website")
CREDITOR = ("creditor_id", "creditor_iban", "creditor_bic")


def _upsert(model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]) -> Any:
    """Create the row, or bring it back to the demo values; saves only what differs."""
    obj, created = model.objects.get_or_create(**lookup, defaults=values)  # type: ignore[attr-defined]
    if created:
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=changed)
    return obj


def _demo_user(username: str, values: dict[str, Any], password: str) -> User:
    user = _upsert(User, {"username": username}, values)
    if not configured_matches(password, user.password):
        user.password = configured_hash(password)
        user.save(update_fields=["password"])
    return user


def library_load(spec: dict[str, Any], *, payment_provider: str) -> Library:
    """A library as in `LIBRARIES`, with its number sequence, branches and the demo's
    subscription types, tariffs and discounts (also used by the benchmarks)."""
    library = _upsert(
        Library,
        {"code": spec["code"]},
        {
            "name": spec["name"],
            "customer_number_prefix": spec["customer_number_prefix"],
            "payment_provider": payment_provider,
            **{k: spec[k] for k in CONTACT + CREDITOR if k in spec},
        },
    )
    # Saved or not, the login service gets the contact details (a database from before it
    # kept them gets them here).
    library_publish(library=library)
    CustomerNumberSequence.objects.get_or_create(library=library)
    for number, name in spec["branches"]:
        _upsert(Branch, {"number": number}, {"library": library, "name": name})
    types = {}
    for subscription in SUBSCRIPTION_TYPES:
        values = {k: v for k, v in subscription.items() if k not in ("code", "successor")}
        types[subscription["code"]] = _upsert(
            SubscriptionType, {"library": library, "code": subscription["code"]}, values
        )
    for subscription in SUBSCRIPTION_TYPES:
        if subscription.get("successor"):
            _upsert(
                SubscriptionType,
                {"library": library, "code": subscription["code"]},
                {"successor": types[subscription["successor"]]},
            )
    for tariff in TARIFFS:
        values = {k: v for k, v in tariff.items() if k != "code"}
        _upsert(Tariff, {"library": library, "code": tariff["code"]}, values)
    for discount in DISCOUNTS:
        values = {k: v for k, v in discount.items() if k != "code"}
        _upsert(Discount, {"library": library, "code": discount["code"]}, values)
    return library


@transaction.atomic
def demo_load(*, only: list[str] | None = None) -> None:
    """The demo's libraries (or `only` those codes: one library installation of its own,
    BIEB_ROLE=library), their staff, the operator and, where the login service runs here, its
    default clients."""
    password = settings.BIEB_DEMO_PASSWORD
    libraries = {}
    for spec in LIBRARIES:
        if only and spec["code"] not in only:
            continue
        # members pay online on the simulated payment service (demo mode only)
        library = library_load(spec, payment_provider="demo")
        libraries[library.code] = library
    for staff in STAFF:
        if staff["library"] not in libraries:
            continue
        library = libraries[staff["library"]]
        _demo_user(
            staff["username"],
            {
                "first_name": staff["first_name"],
                "library": library,
                "branch": Branch.objects.get(number=staff["branch"]),
                "is_staff": False,
                "is_superuser": False,
            },
            password,
        )
        user = User.objects.get(username=staff["username"])
        wanted = set(staff.get("permissions", []))
        if wanted:
            permissions = Permission.objects.filter(
                content_type__app_label="staff", codename__in=wanted
            )
            user.user_permissions.add(*permissions)
    if apps.is_installed("bieb.kb"):
        from bieb.kb.clients import clients_register_defaults

        clients_register_defaults()
    operator = _demo_user(
        ADMIN["username"],
        {"first_name": ADMIN["first_name"], "is_staff": True, "is_superuser": True},
        password,
    )
    _upsert(
        TOTPDevice,
        {"user": operator, "name": DEMO_TOTP_DEVICE},
        {"key": DEMO_TOTP_KEY.hex(), "confirmed": True},
    )
