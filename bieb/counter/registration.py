"""A new customer at the counter: flow A of the work instruction ("Inschrijven bij de balie").

One page that grows as the registration goes on, like the Wise screens one after the other:

1. the customer form ("Reguliere klant"), from Klantnummer (`v` + Enter) to Nieuwsbrief;
2. with "Gebruik inlogaccount" Ja: "Bestaand inlogaccount gebruiken" or "Nieuw inlogaccount
   genereren";
3. "Kies het type abonnement";
4. "Opbouw abonnementskosten. Klant wordt gegenereerd; vestiging …", with a changeable
   Tariefcode, a likely duplicate if there is one, and OK, which saves.

When the library collects by direct debit, "Machtiging automatische incasso" Ja/Nee follows
IBAN and BIC (bieb.counter.mandate_page); with Ja, OK makes the mandate in the registration's
own transaction, so there is a customer with its mandate or neither.

The form itself carries the state: every submit posts all that was typed, and the page comes
back with all of it, the next section opened, or the first wrong field in focus. Nothing is
kept on the server until OK. The form's `registration_key` makes the save happen once: a double
click, a refresh or Back-and-submit-again finds the registration that key already made.
"""

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse

from bieb.core.dates import local_today
from bieb.counter import kept
from bieb.counter.access import Desk, counter_view
from bieb.counter.fields import (
    CUSTOMER_FIELDS,
    MANDATE_FIELDS,
    NEW_CUSTOMER_DEFAULTS,
    build_fields,
    error_lists,
    first_error,
    raw_values,
)
from bieb.counter.mandate_page import (
    MandateAtRegistration,
    registration_errors,
    registration_mandate_clean,
)
from bieb.customers.costs import CostBuildUp, cost_build_up
from bieb.customers.details import CustomerDetails, clean_yes_no, customer_details_clean
from bieb.customers.models import Customer
from bieb.customers.selectors import (
    customer_by_registration_key,
    customer_likely_duplicates,
    customer_login_account_state,
)
from bieb.customers.services import (
    CARD_TAKEN,
    LikelyDuplicate,
    customer_register,
    login_account_link_code_request,
)
from bieb.customers.validators import clean_card_number, format_iban, format_postcode
from bieb.debits.models import MandateKind
from bieb.debits.services import mandate_create
from bieb.kb import interface as login_service
from bieb.libraries.models import Discount, SubscriptionType, Tariff

CUSTOMER, ACCOUNT, SUBSCRIPTION, COSTS = 1, 2, 3, 4
EXISTING, NEW = "bestaand", "nieuw"
ACCOUNT_CHOICES = [
    (EXISTING, "Bestaand inlogaccount gebruiken"),
    (NEW, "Nieuw inlogaccount genereren"),
]
GENERATE_RE = re.compile(r"^[vV]+$")
FORM_FIELDS = ["number", *CUSTOMER_FIELDS]
# The order in which wrong fields get the focus: the page from top to bottom.
_AFTER_BIC = FORM_FIELDS.index("bic") + 1
FOCUS_ORDER = [
    *FORM_FIELDS[:_AFTER_BIC],
    *MANDATE_FIELDS,
    *FORM_FIELDS[_AFTER_BIC:],
    "account",
    "existing_username",
    "link_code",
    "subscription_type",
    "tariff",
    "discount",
    "confirm_duplicate",
]


@dataclass
class Flow:
    """One pass over the posted form: what is valid so far, and what the page shows next."""

    desk: Desk
    key: uuid.UUID
    reached: int = CUSTOMER
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    focus: str = "number"
    notice: str = ""
    details: CustomerDetails | None = None
    card_number: str = ""
    use_login: bool = True
    account_choice: str = ""
    existing_username: str = ""
    link_code: str = ""
    # What the login service answered when it was asked to mail a link code.
    code_notice: str = ""
    subscription: SubscriptionType | None = None
    costs: CostBuildUp | None = None
    duplicates: list[Customer] = field(default_factory=list)
    confirm_duplicate: bool = False
    # "Machtiging automatische incasso" Ja, as it will be made (None: Nee, or not collecting)
    mandate: MandateAtRegistration | None = None

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def fingerprint(self) -> str:
        """What the cost build-up on screen was computed from; a save checks it is unchanged."""
        if self.costs is None or self.subscription is None:
            return ""
        costs = self.costs
        parts = [
            self.subscription.code,
            costs.tariff.code,
            costs.discount.code if costs.discount else "",
            str(costs.fee),
            str(costs.discount_amount),
            costs.name,
            str(costs.age),
            costs.valid_through.isoformat(),
        ]
        return "|".join(parts)


def _form_fields(desk: Desk) -> list[str]:
    """The customer form's fields; the mandate's right after BIC when the library collects."""
    if not desk.library.debits_enabled:
        return FORM_FIELDS
    return [*FORM_FIELDS[:_AFTER_BIC], *MANDATE_FIELDS, *FORM_FIELDS[_AFTER_BIC:]]


def new_customer_defaults() -> dict[str, str]:
    """An empty form: Nederland, Gebruik inlogaccount Ja, no mandate, signed today."""
    return {
        **NEW_CUSTOMER_DEFAULTS,
        "mandate": "nee",
        "mandate_signed_on": local_today().strftime("%d-%m-%Y"),
    }


def _subscription_types(desk: Desk) -> list[SubscriptionType]:
    return list(desk.library.subscription_types.filter(active=True).order_by("code"))


def _evaluate(desk: Desk, data: QueryDict, key: uuid.UUID) -> Flow:
    """Validate the sections in order and decide how far the page goes."""
    flow = Flow(desk=desk, key=key)
    try:
        flow.reached = max(CUSTOMER, min(COSTS, int(data.get("reached", CUSTOMER))))
    except ValueError:
        flow.reached = CUSTOMER
    names = [
        *FORM_FIELDS,
        *MANDATE_FIELDS,
        "existing_username",
        "link_code",
        "code_sent_to",
        "subscription_type",
        "tariff",
        "discount",
    ]
    flow.values = raw_values(data, names)
    pressed = data.get("choose_account", "")
    choice = pressed or data.get("account", "")
    flow.account_choice = choice if choice in (EXISTING, NEW) else ""
    flow.values["account"] = flow.account_choice
    flow.existing_username = flow.values["existing_username"].strip()
    flow.link_code = flow.values["link_code"].strip()
    flow.confirm_duplicate = bool(data.get("confirm_duplicate"))
    flow.values["confirm_duplicate"] = "on" if flow.confirm_duplicate else ""

    if not _customer_section(flow, data):
        return flow
    pressed_account = pressed in (EXISTING, NEW)
    if flow.use_login and not _account_section(
        flow, pressed=pressed_account, new_code=bool(data.get("new_code"))
    ):
        return flow
    if flow.reached < SUBSCRIPTION:
        flow.reached, flow.focus = SUBSCRIPTION, "subscription_type"
        return flow
    if not _subscription_section(flow, data):
        return flow
    if flow.reached < COSTS:
        flow.reached = COSTS
    flow.focus = "confirm_duplicate" if flow.duplicates else "save"
    return flow


def _customer_section(flow: Flow, data: QueryDict) -> bool:
    number = flow.values["number"].strip()
    if GENERATE_RE.match(number):
        flow.card_number = ""
    elif not number:
        flow.fail("number", "Typ v en Enter om een klantnummer te laten genereren, of scan de pas.")
    else:
        try:
            flow.card_number = clean_card_number(number)
        except ValidationError as error:
            flow.fail("number", error.messages[0])
        else:
            if Customer.objects.filter(number=flow.card_number).exists():
                flow.fail("number", CARD_TAKEN)
    try:
        flow.use_login = clean_yes_no(data.get("use_login_account", "ja"))
    except ValidationError as error:
        flow.fail("use_login_account", error.messages[0])
    try:
        flow.details = customer_details_clean(
            data, today=local_today(), email_required=flow.use_login
        )
    except ValidationError as error:
        for name, messages in error_lists(error).items():
            flow.errors.setdefault(name, []).extend(messages)
    if flow.desk.library.debits_enabled:
        flow.mandate, mandate_errors = registration_mandate_clean(
            flow.values, details=flow.details, today=local_today()
        )
        for name, messages in mandate_errors.items():
            if not flow.errors.get(name):  # an IBAN that is wrong is said once
                flow.errors.setdefault(name, []).extend(messages)
    if flow.errors:
        flow.focus = first_error(FOCUS_ORDER, flow.errors)
        return False
    assert flow.details is not None  # noqa: S101
    # Valid: show it as it will be saved (E.B., 9468 BG, the BIC of the IBAN's bank).
    details = flow.details
    flow.values.update(
        initials=details.initials,
        prefix=details.prefix,
        surname=details.surname,
        first_name=details.first_name,
        birth_date=details.birth_date.strftime("%d-%m-%Y"),
        country=details.country,
        postcode=format_postcode(details.postcode, details.country),
        house_number=str(details.house or ""),
        iban=format_iban(details.iban),
        bic=details.bic,
        email=details.email,
    )
    if GENERATE_RE.match(number):
        flow.values["number"] = "V" * flow.desk.library.customer_number_length
    return True


def _account_section(flow: Flow, *, pressed: bool, new_code: bool) -> bool:
    """'Bestaand inlogaccount gebruiken' or 'Nieuw inlogaccount genereren'.

    Shown with 'Nieuw inlogaccount genereren' chosen and in focus: "De meeste nieuwe klanten
    zullen nog geen inlogaccount hebben" (the instruction); Enter takes it, and the rare
    'Bestaand' is one Shift+Tab away.

    Existing: once a username is typed the login service mails its holder a code (once per
    username, or again on 'Stuur een nieuwe code'); the answer does not say whether the account
    exists. OK links only with the right code (`customer_register` checks it)."""
    if flow.reached < ACCOUNT or not flow.account_choice:
        flow.reached, flow.focus = max(flow.reached, ACCOUNT), "account"
        flow.account_choice = flow.account_choice or NEW
        flow.values["account"] = flow.account_choice
        return False
    if flow.account_choice == EXISTING:
        if not flow.existing_username:
            if not pressed:
                flow.fail(
                    "existing_username",
                    "Vul de gebruikersnaam van het bestaande inlogaccount in.",
                )
            flow.focus = "existing_username"
            return False
        if new_code or flow.values["code_sent_to"] != flow.existing_username:
            try:
                flow.code_notice = login_account_link_code_request(
                    actor=flow.desk.user, library=flow.desk.library, username=flow.existing_username
                )
            except ValidationError as error:
                for messages in error_lists(error).values():
                    flow.errors.setdefault("existing_username", []).extend(messages)
                flow.focus = "existing_username"
                return False
            flow.values.update(code_sent_to=flow.existing_username, link_code="")
            flow.link_code = ""
            flow.focus = "link_code"
            return False
        if not flow.link_code:
            if not pressed:
                flow.fail("link_code", "Vul de code uit de e-mail in.")
            flow.focus = "link_code"
            return False
    if pressed and flow.reached < SUBSCRIPTION:
        flow.reached, flow.focus = SUBSCRIPTION, "subscription_type"
        return False
    return True


def _subscription_section(flow: Flow, data: QueryDict) -> bool:
    """'Kies het type abonnement', then the cost build-up it gives."""
    library = flow.desk.library
    code = flow.values["subscription_type"]
    subscription = next((t for t in _subscription_types(flow.desk) if t.code == code), None)
    flow.subscription = subscription
    if subscription is None:
        flow.fail("subscription_type", "Kies het type abonnement.")
        flow.focus = "subscription_type"
        return False
    if (subscription.has_digital_rights or subscription.login_account_required) and not (
        flow.use_login
    ):
        flow.fail(
            "use_login_account",
            f"Nee kan niet bij {subscription.name}: zonder inlogaccount kan de klant de Online "
            "Bibliotheek niet gebruiken. Kies Ja.",
        )
    if flow.card_number and not subscription.card:
        flow.fail(
            "number",
            f"Bij {subscription.name} hoort geen pas: typ v en Enter om een klantnummer te "
            "laten genereren.",
        )
    tariff: Tariff | None = library.tariffs.filter(code=flow.values["tariff"]).first()
    discount: Discount | None = None
    if flow.values["discount"]:
        discount = library.discounts.filter(code=flow.values["discount"]).first()
    assert flow.details is not None  # noqa: S101  (the customer section passed)
    if not flow.errors:
        try:
            flow.costs = cost_build_up(
                customer=flow.details,
                subscription_type=subscription,
                tariff=tariff,
                discount=discount,
                on=local_today(),
            )
        except ValidationError as error:
            for name, messages in error_lists(error).items():
                flow.errors.setdefault(name, []).extend(messages)
    if flow.errors:
        flow.focus = first_error(FOCUS_ORDER, flow.errors)
        return False
    assert flow.costs is not None  # noqa: S101
    flow.values["tariff"] = flow.costs.tariff.code
    flow.values["discount"] = flow.costs.discount.code if flow.costs.discount else ""
    flow.duplicates = list(
        customer_likely_duplicates(
            library=library,
            surname=flow.details.surname,
            birth_date=flow.details.birth_date,
            postcode=flow.details.postcode,
        )
    )
    return True


def _save(request: HttpRequest, flow: Flow) -> HttpResponse | None:
    """OK: register the customer; the redirect to the result, or None with the errors set."""
    assert flow.details is not None and flow.subscription is not None  # noqa: S101
    assert flow.costs is not None  # noqa: S101
    if flow.duplicates and not flow.confirm_duplicate:
        flow.fail(
            "confirm_duplicate",
            "Deze klant staat mogelijk al ingeschreven. Open de bestaande klant, of vink aan "
            "dat het een andere klant is.",
        )
        flow.focus = "confirm_duplicate"
        return None
    existing = flow.existing_username if flow.account_choice == EXISTING else ""
    code = flow.link_code if existing else ""
    details, mandate = flow.details, flow.mandate

    def make_mandate(customer: Customer) -> None:
        """The mandate signed at the desk, in the registration's transaction."""
        assert mandate is not None  # noqa: S101
        try:
            mandate_create(
                library=flow.desk.library,
                customer=customer,
                iban=details.iban,
                bic=details.bic,
                holder_name=mandate.holder_name,
                signed_on=mandate.signed_on,
                kind=MandateKind.COUNTER,
                actor=flow.desk.user,
            )
        except ValidationError as error:
            raise ValidationError(registration_errors(error)) from None

    try:
        registration = customer_register(
            actor=flow.desk.user,
            branch=flow.desk.branch,
            details=flow.details,
            subscription_type=flow.subscription,
            tariff=flow.costs.tariff,
            discount=flow.costs.discount,
            card_number=flow.card_number,
            use_login_account=flow.use_login,
            existing_username=existing if flow.use_login else "",
            link_code=code if flow.use_login else "",
            confirm_duplicate=flow.confirm_duplicate,
            registration_key=flow.key,
            then=make_mandate if mandate is not None else None,
        )
    except LikelyDuplicate as duplicate:
        flow.duplicates = duplicate.matches
        flow.fail("confirm_duplicate", duplicate.messages[0])
        flow.focus = "confirm_duplicate"
        return None
    except IntegrityError:
        # Only a registration_key of another library's form gets here (keys are unique).
        flow.fail("", "Dit formulier is al gebruikt. Begin opnieuw met 'Nieuwe klant'.")
        return None
    except ValidationError as error:
        for name, messages in error_lists(error).items():
            # The login service names its own field "username"; here that is the number.
            target = {"username": ""}.get(name, name)
            flow.errors.setdefault(target, []).extend(messages)
        flow.focus = first_error(FOCUS_ORDER, flow.errors)
        return None
    return _to_result(registration.customer, flow.account_choice if flow.use_login else "")


def _to_result(customer: Customer, account_choice: str) -> HttpResponse:
    url = reverse("counter:registered", args=[customer.number])
    return redirect(f"{url}?inlogaccount={account_choice or 'geen'}")


@counter_view
def new_customer(request: HttpRequest, desk: Desk) -> HttpResponse:
    if request.method != "POST":
        restored = kept.form_restore(request)
        if restored is not None:
            return _render_restored(request, desk, restored)
        flow = Flow(desk=desk, key=uuid.uuid4(), values=new_customer_defaults())
        return _render(request, flow)
    try:
        key = uuid.UUID(request.POST.get("registration_key", ""))
    except ValueError:
        key = uuid.uuid4()
    # A form that was saved before (double click, refresh, Back and submit again): its result.
    done = _registered_by(desk, key)
    if done is not None:
        return done
    flow = _evaluate(desk, request.POST, key)
    action = request.POST.get("action", "next")
    if action == "save" and flow.costs is not None and not flow.errors:
        if request.POST.get("shown", "") != flow.fingerprint():
            flow.notice = (
                "De opbouw van de abonnementskosten is gewijzigd. Controleer hem en kies "
                "opnieuw OK."
            )
            flow.focus = "save"
        else:
            response = _save(request, flow)
            if response is not None:
                return response
    elif action == "wijzig" and flow.costs is not None:
        flow.focus = "save"
    if flow.errors and action == "save":
        # The same form saved at this very moment by another request (a double click that
        # got through): its customer now reads as a duplicate of itself. Show its result.
        done = _registered_by(desk, key)
        if done is not None:
            return done
    return _render(request, flow, status=400 if flow.errors else 200)


def _render_restored(request: HttpRequest, desk: Desk, data: QueryDict) -> HttpResponse:
    """The form as it was sent when the session had ended: everything typed, at the step it
    had reached, with the focus on the first field to do and nothing saved."""
    try:
        key = uuid.UUID(data.get("registration_key", ""))
    except ValueError:
        key = uuid.uuid4()
    done = _registered_by(desk, key)
    if done is not None:
        return done
    flow = _evaluate(desk, data, key)
    flow.errors = {}  # not yet: the fields still empty are to be filled in, not wrong
    flow.notice = kept.KEPT_NOTICE
    return _render(request, flow)


def _registered_by(desk: Desk, key: uuid.UUID) -> HttpResponse | None:
    customer = customer_by_registration_key(library=desk.library, key=key)
    if customer is None:
        return None
    choice = ""
    state = customer_login_account_state(customer=customer)
    if state.call is not None:
        choice = NEW if state.call.call.kind == "account_create" else EXISTING
    elif state.account is not None:
        new = login_service.is_counter_username(state.account.username, number=customer.number)
        choice = NEW if new else EXISTING
    return _to_result(customer, choice)


def _render(request: HttpRequest, flow: Flow, *, status: int = 200) -> HttpResponse:
    values = flow.values
    fields = build_fields(_form_fields(flow.desk), values, flow.errors, focus=flow.focus)
    library = flow.desk.library
    context: dict[str, Any] = {
        "desk": flow.desk,
        "flow": flow,
        "number_field": fields[0],
        "fields": fields[1:],
        "general_errors": flow.errors.get("", []),
        "account_choices": ACCOUNT_CHOICES,
        "account_chosen_label": dict(ACCOUNT_CHOICES).get(flow.account_choice, ""),
        "show_account": flow.reached >= ACCOUNT and flow.use_login,
        "show_subscription": flow.reached >= SUBSCRIPTION,
        "subscription_types": _subscription_types(flow.desk),
        "tariffs": list(library.tariffs.order_by("code")),
        "discounts": list(library.discounts.order_by("code")),
        "fingerprint": flow.fingerprint(),
        "generated_number": "V" * library.customer_number_length,
        "errors": flow.errors,
    }
    return render(request, "counter/new_customer.html", context, status=status)
