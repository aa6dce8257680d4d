"""Counter pages around a customer: search, the customer page with its memberships, ledger,
payment at the desk and login account, and changing the personal data.

Every view gets the staff member's `Desk` and looks customers up within the desk's library, so
another library's customer number is a 404. Every change goes through a service (one
transaction, an audit row) and answers with a redirect (POST-redirect-GET); the forms on the
customer page carry a one-time key, so a double click or a refresh changes nothing twice.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from bieb.core.dates import age_on, local_today
from bieb.core.money import format_euro, money_parse
from bieb.core.submissions import AlreadySubmitted, submission_claim, submission_key_parse
from bieb.counter import kept
from bieb.counter.access import Desk, counter_view
from bieb.counter.fields import (
    CUSTOMER_FIELDS,
    build_fields,
    customer_values,
    error_lists,
    first_error,
    local_moment,
    raw_values,
)
from bieb.counter.mandate_page import mandate_page_context
from bieb.counter.year_page import year_ledger_rows, year_membership_rows, year_page_context
from bieb.customers.costs import CostBuildUp, cost_build_up
from bieb.customers.details import customer_details_clean
from bieb.customers.ledger import Overpayment, ledger_payment_book
from bieb.customers.models import (
    MEMBERSHIP_CLOSED,
    Customer,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    PaymentMethod,
    PeriodState,
)
from bieb.customers.selectors import (
    customer_get,
    customer_ledger,
    customer_login_account,
    customer_login_account_state,
    customer_memberships,
    customer_saldo,
    customer_search,
)
from bieb.customers.services import (
    customer_login_account_email_change,
    customer_login_account_forget,
    customer_login_account_generate,
    customer_login_account_link,
    customer_login_account_link_check,
    customer_login_account_resend,
    customer_update,
    login_account_link_code_request,
)
from bieb.customers.validators import format_iban
from bieb.customers.year import ONE_DAY
from bieb.debits.services import mandate_active, mandate_follow_customer_iban
from bieb.kb import interface as login_service
from bieb.kboutbox.models import KBCall, KBCallState
from bieb.kboutbox.selectors import KBCallView, kb_calls_shown
from bieb.payments.selectors import payments_to_refund

EDIT_FIELDS = [name for name in CUSTOMER_FIELDS if name != "use_login_account"]
DIALOG_SESSION_KEY = "counter:dialog"


def _customer(desk: Desk, number: str) -> Customer:
    """The desk library's customer with this number; 404 for any other."""
    try:
        return customer_get(library=desk.library, number=number)
    except Customer.DoesNotExist:
        raise Http404("Geen klant van deze bibliotheek") from None


def _customer_url(customer: Customer, fragment: str = "") -> str:
    url = reverse("counter:customer", args=[customer.number])
    return f"{url}#{fragment}" if fragment else url


ANONYMISED_REFUSED = (
    "Deze klant is geanonimiseerd (bewaartermijn verstreken): er kan niets meer worden "
    "gewijzigd. Schrijf de klant zo nodig opnieuw in als nieuwe klant."
)


def anonymised_refusal(request: HttpRequest, customer: Customer) -> HttpResponse | None:
    """An anonymised customer (bieb.retention) is read-only: every change is refused, with the
    reason, back on the customer page. None for any other customer."""
    if customer.anonymised_at is None:
        return None
    messages.error(request, ANONYMISED_REFUSED)
    return redirect(_customer_url(customer))


# --- search ----------------------------------------------------------------------------------


@counter_view
def home(request: HttpRequest, desk: Desk) -> HttpResponse:
    return redirect("counter:search")


@counter_view
def search(request: HttpRequest, desk: Desk) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    found, more = customer_search(library=desk.library, query=query)
    context = {"desk": desk, "section": "klanten", "q": query, "found": found, "more": more}
    return render(request, "counter/search.html", context)


@counter_view
def search_results(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The results alone, fetched by the search page while staff type."""
    query = request.GET.get("q", "").strip()[:100]
    found, more = customer_search(library=desk.library, query=query)
    context = {"desk": desk, "q": query, "found": found, "more": more}
    return render(request, "counter/_results.html", context)


# --- the customer page -----------------------------------------------------------------------


def _period_costs(
    customer: Customer, membership: Membership, period: MembershipPeriod
) -> CostBuildUp:
    """A period's cost build-up as it was booked or offered (its 'Te betalen' is the period's
    amount, never the saldo); 'Rechten t/m' is how far the membership's rights reach into it."""
    rights = membership.rights_through
    return CostBuildUp(
        name=customer.display_name,
        age=age_on(customer.birth_date, period.start),
        tariff=period.tariff,
        discount=period.discount,
        start=period.start,
        valid_through=period.end,
        rights_through=min(rights, period.end) if rights and rights >= period.start else None,
        fee=period.fee,
        discount_amount=period.discount_amount,
    )


def _membership_rows(
    customer: Customer, memberships: list[Membership], *, today: dt.date
) -> list[dict[str, Any]]:
    """Each membership with the cost build-up of each of its periods (newest first), its next
    period and what can be done with it. `customer` is the memberships' customer, already
    loaded (reading `membership.customer` would fetch it again for every membership); the
    periods come prefetched (`customer_memberships`)."""
    rows = []
    for membership in memberships:
        periods = [p for p in membership.periods.all() if p.state != PeriodState.LAPSED]
        builds: list[tuple[MembershipPeriod | None, CostBuildUp]] = [
            (p, _period_costs(customer, membership, p))
            for p in sorted(periods, key=lambda p: p.start, reverse=True)
        ]
        if not builds:
            # A membership from before the periods: its build-up as registered.
            try:
                costs = cost_build_up(
                    customer=customer,
                    subscription_type=membership.subscription_type,
                    tariff=membership.tariff,
                    discount=membership.discount,
                    on=membership.start_date,
                )
                builds = [(None, costs)]
            except ValidationError:
                builds = []  # e.g. an age band changed since; the saved membership still stands
        running = [p for p in periods if p.state == PeriodState.BOOKED and p.start <= today]
        current_end = max((p.end for p in running), default=membership.valid_through)
        upcoming = [p for p in periods if p.start > today]
        upcoming.sort(key=lambda p: p.start)
        offered = next((p for p in upcoming if p.state == PeriodState.OFFERED), None)
        renewed = next((p for p in upcoming if p.state == PeriodState.BOOKED), None)
        closed = membership.status in MEMBERSHIP_CLOSED
        open_ = not membership.is_cancelled and not closed
        rows.append(
            {
                "membership": membership,
                "builds": builds,
                "costs": builds[0][1] if builds else None,
                "next": upcoming[0] if upcoming else None,
                # Verlengen: also early, also a Vast membership that ran out; not twice ahead.
                "can_renew": not membership.is_cancelled
                and membership.status != MembershipStatus.DEREGISTERED
                and renewed is None,
                "renew_from": offered.start if offered else membership.valid_through + ONE_DAY,
                "can_cancel": open_,
                "cancel_end": max(current_end, today),
                "can_change": open_,
                "change_from": membership.valid_through + ONE_DAY,
            }
        )
    return rows


def _account_context(customer: Customer) -> dict[str, Any]:
    state = customer_login_account_state(customer=customer)
    context: dict[str, Any] = {
        "account": state.account,
        "account_state": state,
        "kb_calls": kb_calls_shown(customer_id=customer.pk),
    }
    if state.account is not None:
        context["account_deadline"] = local_moment(state.account.activation_deadline)
        context["email_differs"] = email_differs(customer, state.account)
    return context


def email_differs(customer: Customer, account: login_service.AccountStatus) -> bool:
    """The customer's e-mail (the library's) is not the login account's (the KB's): the KB's
    mail (activation, a new password) goes elsewhere than the library thinks."""
    return (
        account.state in (login_service.AccountState.ACTIVE, login_service.AccountState.WAITING)
        and bool(customer.email and account.email)
        and customer.email.strip().lower() != account.email.strip().lower()
    )


def _memberships(customer: Customer) -> list[Membership]:
    periods = MembershipPeriod.objects.select_related("subscription_type", "tariff", "discount")
    return list(
        customer_memberships(customer=customer).prefetch_related(
            Prefetch("periods", queryset=periods)
        )
    )


def _payment_state(saldo: Decimal) -> dict[str, Any]:
    """The desk payment's form as it opens: the amount prefilled with the saldo."""
    return {
        "amount": f"{saldo:.2f}".replace(".", ",") if saldo > 0 else "",
        "method": "",
        "errors": {},
    }


PAYMENT_METHODS = [(PaymentMethod.CASH, "Contant"), (PaymentMethod.PIN, "Pin")]


def _customer_page(
    request: HttpRequest,
    desk: Desk,
    customer: Customer,
    *,
    payment: dict[str, Any] | None = None,
    link: dict[str, Any] | None = None,
    action: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The customer page; `payment`, `link` and `action` are a form sent back with what was
    typed and its errors (`action`: one of the year's forms, bieb.counter.year)."""
    if customer.anonymised_at is not None:
        return _anonymised_page(request, desk, customer, status=status)
    today = local_today()
    saldo = customer_saldo(customer=customer)
    payment = payment or _payment_state(saldo)
    if action is None and request.GET.get("betalen") and saldo > 0:
        payment["focus"] = "amount"  # right after Verlengen: the payment is the next step
    link = link or {"username": "", "errors": []}
    # Right after a change of the login account (say, 'Vergeet inlogaccount') the next step
    # has the focus: 'Nieuw inlogaccount genereren', what most customers need.
    account_changed = not customer.login_account_id and any(
        message.extra_tags == "inlogaccount" for message in messages.get_messages(request)
    )
    dialog = request.session.pop(DIALOG_SESSION_KEY, None)
    if dialog and dialog.get("number") != customer.number:
        dialog = None
    ledger = list(customer_ledger(customer=customer).select_related("booked_by"))
    context: dict[str, Any] = {
        "desk": desk,
        "section": "klanten",
        "tab": "klant",
        "customer": customer,
        "memberships": year_membership_rows(
            _membership_rows(customer, _memberships(customer), today=today), action
        ),
        "ledger": year_ledger_rows(desk, ledger, action),
        "refunds": list(payments_to_refund(customer=customer)),
        "saldo": saldo,
        "saldo_label": format_euro(saldo),
        "payment": payment,
        "payment_methods": PAYMENT_METHODS,
        "link": link,
        "once": uuid.uuid4,
        "dialog": dialog,
        "account_changed": account_changed,
        "hours": login_service.activation_lifetime_label(),
        **year_page_context(desk, customer, saldo=saldo, action=action),
        **mandate_page_context(desk, customer, action=action),
        **_account_context(customer),
    }
    return render(request, "counter/customer.html", context, status=status)


def _anonymised_page(
    request: HttpRequest, desk: Desk, customer: Customer, *, status: int = 200
) -> HttpResponse:
    """What is left of an anonymised customer: the number, "Geanonimiseerd op <datum>", the
    memberships and the ledger (the financial retention), and no way to change anything."""
    context = {
        "desk": desk,
        "section": "klanten",
        "tab": "klant",
        "customer": customer,
        "memberships": list(
            customer_memberships(customer=customer).select_related("subscription_type")
        ),
        "ledger": list(customer_ledger(customer=customer)),
        "saldo": customer_saldo(customer=customer),
    }
    return render(request, "counter/customer_anonymised.html", context, status=status)


@counter_view
def customer_page(request: HttpRequest, desk: Desk, number: str) -> HttpResponse:
    customer = _customer(desk, number)
    restored = kept.form_restore(request)
    if restored is None:
        return _customer_page(request, desk, customer)
    # A payment or a username typed before the session ended: back in its form, not yet sent.
    messages.info(request, kept.KEPT_NOTICE)
    payment = link = None
    if "amount" in restored:
        amount, method = restored.get("amount", ""), restored.get("method", "")
        payment = {"amount": amount, "method": method, "errors": {}, "focus": "amount"}
    if "username" in restored:
        link = {"username": restored.get("username", ""), "errors": [], "open": True}
    return _customer_page(request, desk, customer, payment=payment, link=link)


REGISTERED_CHOICES = ("nieuw", "bestaand", "geen")


def _registered_page(
    request: HttpRequest,
    desk: Desk,
    customer: Customer,
    *,
    choice: str,
    payment: dict[str, Any] | None = None,
    paid: bool = False,
    status: int = 200,
) -> HttpResponse:
    memberships = _memberships(customer)
    if not memberships:
        return redirect(_customer_url(customer))
    first = min(memberships, key=lambda m: m.pk)
    row = _membership_rows(customer, [first], today=local_today())[0]
    builds = row["builds"]
    account_state = customer_login_account_state(customer=customer)
    account = account_state.account
    saldo = customer_saldo(customer=customer)
    mandate = (
        mandate_active(library=desk.library, customer=customer)
        if desk.library.debits_enabled
        else None
    )
    # The dialog ('Genereren van inlogaccount gelukt') comes first, once: not again when the
    # payment form comes back with a question or an error, nor after the payment.
    show_dialog = payment is None and not paid
    if payment is None:
        payment = _payment_state(saldo)
        if paid:
            payment["focus"] = "amount"  # a part was paid: the rest, if staff want
    context = {
        "desk": desk,
        "section": "nieuw",
        "customer": customer,
        "membership": first,
        # the registration's own period: the oldest
        "costs": builds[-1][1] if builds else None,
        "account": account,
        # the KB has not made (or linked) the account yet, or refused: bieb.kboutbox
        "account_call": account_state.call,
        "account_unreachable": account_state.unreachable,
        "choice": choice if choice in REGISTERED_CHOICES else "geen",
        # linked to an existing account: its username is not this customer's number
        "linked": choice == "bestaand"
        or bool(
            account
            and account.username
            and not login_service.is_counter_username(account.username, number=customer.number)
        ),
        "account_deadline": local_moment(account.activation_deadline) if account else "",
        "hours": login_service.activation_lifetime_label(),
        "saldo": saldo,
        "saldo_label": format_euro(saldo),
        "payment": payment,
        "payment_methods": PAYMENT_METHODS,
        "paid": paid,
        "show_dialog": show_dialog,
        "once": uuid.uuid4,
        "mandate": mandate,
        "mandate_iban": format_iban(mandate.iban) if mandate else "",
    }
    return render(request, "counter/registered.html", context, status=status)


@counter_view
def registered(request: HttpRequest, desk: Desk, number: str) -> HttpResponse:
    """Right after OK: the cost build-up of the new membership, with the dialog that says what
    happened to the login account. With a saldo above zero the desk payment follows on the same
    screen (OK in the dialog puts the focus on the amount; 'Later betalen' goes to the
    customer); otherwise OK goes to the customer page."""
    customer = _customer(desk, number)
    return _registered_page(
        request,
        desk,
        customer,
        choice=request.GET.get("inlogaccount", ""),
        paid=request.GET.get("betaald") == "1",
    )


# --- changes on the customer page ------------------------------------------------------------


def _once(request: HttpRequest, *, scope: str, change: Callable[[], None]) -> bool:
    """Run `change` in one transaction with the form's one-time key. False when this form was
    submitted before (its change is done; nothing happens now)."""
    key = submission_key_parse(request.POST.get("once"))
    if key is None:
        raise ValidationError("Dit formulier is verlopen; probeer het opnieuw.")
    try:
        with transaction.atomic():
            submission_claim(key=key, scope=scope)
            change()
    except AlreadySubmitted:
        return False
    return True


def _post_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A change answers GET with the customer page (after the library check)."""

    def wrapper(request: HttpRequest, desk: Desk, number: str) -> HttpResponse:
        customer = _customer(desk, number)
        if request.method != "POST":
            return redirect(_customer_url(customer))
        if (refused := anonymised_refusal(request, customer)) is not None:
            return refused
        return view(request, desk, customer)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@counter_view
@_post_only
def payment(request: HttpRequest, desk: Desk, customer: Customer) -> HttpResponse:
    """A payment at the desk, contant or pin: one ledger line. More than the open saldo asks
    first ("Meer dan het saldo (…): toch … boeken?"); Ja posts the same form again, confirmed,
    with the same one-time key. The form is on the customer page and on the registration's
    result (`scherm=ingeschreven`); an error or the question comes back on the page it was
    sent from."""
    amount_text = request.POST.get("amount", "")
    method = request.POST.get("method", "")
    confirmed = request.POST.get("confirm_overpayment") == "ja"
    registration = request.POST.get("scherm") == "ingeschreven"
    choice = request.POST.get("inlogaccount", "")
    memberships = list(customer_memberships(customer=customer)[:1])
    booked: dict[str, Decimal] = {}

    def again(state: dict[str, Any], status: int) -> HttpResponse:
        if registration:
            return _registered_page(
                request, desk, customer, choice=choice, payment=state, status=status
            )
        return _customer_page(request, desk, customer, payment=state, status=status)

    def book() -> None:
        try:
            amount = money_parse(amount_text)
        except ValidationError as error:
            raise ValidationError({"amount": error.messages}) from None
        line = ledger_payment_book(
            actor=desk.user,
            customer=customer,
            amount=amount,
            method=method,
            membership=memberships[0] if memberships else None,
            allow_overpayment=confirmed,
        )
        booked["amount"] = -line.amount

    try:
        done = _once(request, scope="counter.payment", change=book)
    except Overpayment as over:
        question = {
            "amount": amount_text,
            "method": method,
            "errors": {},
            "confirm": {"question": over.messages[0], "once": request.POST.get("once", "")},
        }
        return again(question, 200)
    except ValidationError as error:
        errors = error_lists(error)
        payment_state = {
            "amount": amount_text,
            "method": method,
            "errors": errors,
            "general": errors.get("", []),
        }
        focus = first_error(["amount", "method", ""], errors)
        payment_state["focus"] = focus or "amount"
        return again(payment_state, 400)
    if done:
        label = PaymentMethod(method).label.lower()
        messages.success(
            request,
            f"Betaling van {format_euro(booked['amount'])} ({label}) is geboekt.",
            extra_tags="financieel",
        )
    if registration:
        url = reverse("counter:registered", args=[customer.number])
        return redirect(f"{url}?inlogaccount={choice or 'geen'}&betaald=1")
    return redirect(_customer_url(customer, "financieel"))


def _ignore(_: object) -> None:
    """For a change whose result the page reads again after the redirect."""


def _account_change(
    request: HttpRequest,
    desk: Desk,
    customer: Customer,
    *,
    scope: str,
    change: Callable[[], object],
    success: str,
    dialog: str = "",
) -> HttpResponse:
    """A change of the login account: the library's part in one transaction with the form's
    one-time key; the KB's part (a call in the library's outbox, bieb.kboutbox) is made after
    that commits. When it is done by the time the page answers (the KB in this process) staff
    see the result as before; otherwise where it stands."""
    made: dict[str, object] = {}

    def run() -> None:
        made["result"] = change()

    try:
        done = _once(request, scope=scope, change=run)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message, extra_tags="inlogaccount")
        return redirect(_customer_url(customer, "inlogaccount"))
    if done:
        call = made.get("result")
        if isinstance(call, KBCall) and not _call_reported(request, call):
            return redirect(_customer_url(customer, "inlogaccount"))
        if dialog:
            request.session[DIALOG_SESSION_KEY] = {"number": customer.number, "kind": dialog}
        else:
            messages.success(request, success, extra_tags="inlogaccount")
    return redirect(_customer_url(customer, "inlogaccount"))


def _call_reported(request: HttpRequest, call: KBCall) -> bool:
    """True when the KB has done the call (the caller says so as before); otherwise tells staff
    where it stands (refused, with what to do; or waiting for the KB) and returns False."""
    call.refresh_from_db()
    if call.state == KBCallState.DONE:
        return True
    view = KBCallView(call)
    if view.is_refused:
        messages.error(
            request,
            f"De KB heeft dit geweigerd: {view.refusal} {view.advice}",
            extra_tags="inlogaccount",
        )
    else:
        messages.warning(
            request,
            f"{view.kind_label.capitalize()}: {view.label}. Dit gebeurt vanzelf zodra de KB "
            "bereikbaar is.",
            extra_tags="inlogaccount",
        )
    return False


@counter_view
@_post_only
def account_generate(request: HttpRequest, desk: Desk, customer: Customer) -> HttpResponse:
    """'Nieuw inlogaccount genereren'."""
    return _account_change(
        request,
        desk,
        customer,
        scope="counter.account_generate",
        change=lambda: customer_login_account_generate(actor=desk.user, customer=customer),
        success="",
        dialog="generated",
    )


@counter_view
@_post_only
def account_link(request: HttpRequest, desk: Desk, customer: Customer) -> HttpResponse:
    """'Bestaand inlogaccount gebruiken': the username first, for which the login service mails
    its holder a code; then the code the customer reads out, which links."""
    username = request.POST.get("username", "").strip()
    code = request.POST.get("code", "").strip()
    state: dict[str, Any] = {"username": username, "code": "", "open": True, "errors": []}
    if request.POST.get("action") == "code" or not request.POST.get("code_sent"):
        try:
            state["info"] = login_account_link_code_request(
                actor=desk.user, library=desk.library, username=username
            )
        except ValidationError as error:
            errors = error_lists(error)
            state["errors"] = errors.get("username", []) + errors.get("", [])
            return _customer_page(request, desk, customer, link=state, status=400)
        state["code_sent"] = True
        return _customer_page(request, desk, customer, link=state)

    state["code_sent"] = True
    try:
        # Outside the change's transaction: a wrong code counts also when nothing is saved.
        customer_login_account_link_check(
            actor=desk.user, customer=customer, username=username, code=code
        )
        made: dict[str, KBCall] = {}

        def link() -> None:
            made["call"] = customer_login_account_link(
                actor=desk.user, customer=customer, username=username, code=code
            )

        done = _once(request, scope="counter.account_link", change=link)
    except ValidationError as error:
        errors = error_lists(error)
        state["errors"] = errors.get("username", []) + errors.get("", [])
        state["code_errors"] = errors.get("link_code", [])
        state["code"] = code
        return _customer_page(request, desk, customer, link=state, status=400)
    if done and _call_reported(request, made["call"]):
        request.session[DIALOG_SESSION_KEY] = {"number": customer.number, "kind": "linked"}
    return redirect(_customer_url(customer, "inlogaccount"))


@counter_view
@_post_only
def account_forget(request: HttpRequest, desk: Desk, customer: Customer) -> HttpResponse:
    """'Vergeet inlogaccount'."""
    account = customer_login_account(customer=customer)
    name = f" {account.username}" if account and account.username else ""
    return _account_change(
        request,
        desk,
        customer,
        scope="counter.account_forget",
        change=lambda: _ignore(customer_login_account_forget(actor=desk.user, customer=customer)),
        success=f"Inlogaccount{name} is vergeten. Genereer zo nodig een nieuw inlogaccount.",
    )


@counter_view
@_post_only
def account_resend(request: HttpRequest, desk: Desk, customer: Customer) -> HttpResponse:
    """'Opnieuw versturen': a new activation mail; the old link stops working."""
    account = customer_login_account(customer=customer)
    to = f" ({account.email})" if account and account.email else ""
    return _account_change(
        request,
        desk,
        customer,
        scope="counter.account_resend",
        change=lambda: customer_login_account_resend(actor=desk.user, customer=customer),
        success=(
            f"De activeringsmail is opnieuw verstuurd naar het e-mailadres van het "
            f"inlogaccount{to}. De nieuwe link werkt "
            f"{login_service.activation_lifetime_label()}; de oude link werkt niet meer."
        ),
    )


@counter_view
@_post_only
def account_email_change(request: HttpRequest, desk: Desk, customer: Customer) -> HttpResponse:
    """'E-mail van inlogaccount wijzigen': the KB asks the customer to confirm the customer's
    e-mail address for the login account (an account still waiting for activation gets its
    activation link there)."""
    account = customer_login_account(customer=customer)
    if account is not None and account.is_waiting:
        success = (
            f"De activeringsmail is verstuurd naar {customer.email}; de link naar het oude "
            f"adres werkt niet meer. De nieuwe link werkt "
            f"{login_service.activation_lifetime_label()}."
        )
    else:
        success = (
            f"De KB heeft een bevestigingslink gestuurd naar {customer.email}. Het e-mailadres "
            "van het inlogaccount verandert pas als de klant op die link klikt; het oude adres "
            "krijgt daarvan bericht."
        )
    return _account_change(
        request,
        desk,
        customer,
        scope="counter.account_email_change",
        change=lambda: customer_login_account_email_change(actor=desk.user, customer=customer),
        success=success,
    )


# --- personal data ---------------------------------------------------------------------------


@counter_view
def customer_edit(request: HttpRequest, desk: Desk, number: str) -> HttpResponse:
    """Change the personal data ("Wijzig persoonsgegevens")."""
    customer = _customer(desk, number)
    if (refused := anonymised_refusal(request, customer)) is not None:
        return refused
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = raw_values(request.POST, EDIT_FIELDS)
        old_iban = customer.iban
        try:
            details = customer_details_clean(
                request.POST, today=local_today(), email_required=customer.uses_login_account
            )
            # A new IBAN takes an active mandate on the old one along (an amendment), in the
            # same transaction: both or neither.
            with transaction.atomic():
                changed = customer_update(actor=desk.user, customer=customer, details=details)
                amended = mandate_follow_customer_iban(
                    library=desk.library, customer=customer, old_iban=old_iban, actor=desk.user
                )
        except ValidationError as error:
            customer.refresh_from_db()
            errors = error_lists(error)
        else:
            if amended is not None:
                messages.success(
                    request,
                    f"De persoonsgegevens zijn opgeslagen. De machtiging {amended.reference} "
                    f"gaat mee naar de nieuwe IBAN {format_iban(amended.iban)}; de bank hoort "
                    "het bij de volgende incasso.",
                )
            elif changed:
                messages.success(request, "De persoonsgegevens zijn opgeslagen.")
            else:
                messages.info(request, "Er is niets gewijzigd.")
            return redirect(_customer_url(customer, "persoonsgegevens"))
    elif (restored := kept.form_restore(request)) is not None:
        values = raw_values(restored, EDIT_FIELDS)  # typed before the session ended
        messages.info(request, kept.KEPT_NOTICE)
    else:
        values = customer_values(customer)
    focus = first_error(EDIT_FIELDS, errors) or EDIT_FIELDS[0]
    context = {
        "desk": desk,
        "section": "klanten",
        "tab": "klant",
        "customer": customer,
        "fields": build_fields(EDIT_FIELDS, values, errors, focus=focus),
        "general_errors": errors.get("", []),
    }
    return render(request, "counter/customer_edit.html", context, status=400 if errors else 200)
