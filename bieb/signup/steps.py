"""The sign-up at `/word-lid/<library>/` as a chain of explicit steps, in the shape of pretix's
checkout flow: each step says whether it is complete and handles its own page; the flow sends
the member to the first step that is not.

1. `abonnement`  — choose a subscription the library offers online;
2. `inlogaccount` — make a login account at the KB (or log in with one); the library learns
   which account by an OpenID Connect login (views `account_connect`/`account_callback`);
3. `gegevens`     — personal details, checked as at the counter;
4. `betalen`      — "Opbouw abonnementskosten" and "Betalen"; where the library collects, for
   a subscription that renews by itself, also the choice to pay the following years by
   automatische incasso (an electronic mandate, made with the customer once paid).
Then the provider's page, back to `betaling/<id>/`, and the done page `klaar/`.

All state is in the member's session under `signup:<library code>` (`SignupState`), with a
registration key made at the start: nothing is written to the database before "Betalen". The
state expires SIGNUP_LIFETIME after the last change.
"""

import datetime as dt
import logging
import uuid
from abc import ABC, abstractmethod
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from bieb.core.dates import local_today, month_year_nl
from bieb.core.http import client_address
from bieb.core.money import format_euro
from bieb.customers.costs import CostBuildUp
from bieb.customers.models import Membership
from bieb.integrations.kb.client import kb_base_url
from bieb.libraries.models import Library, RenewalKind, SubscriptionType
from bieb.payments.models import UNPAID_FINAL, UNSETTLED, PaymentStatus
from bieb.payments.providers import ProviderError, provider_for_library
from bieb.payments.selectors import payment_get
from bieb.signup.forms import DetailsForm
from bieb.signup.models import SignupStatus
from bieb.signup.services import (
    SIGNUP_LIFETIME,
    Checked,
    SignupError,
    SignupMandate,
    signup_consent_text,
    signup_current_membership,
    signup_debit_offered,
    signup_details_check,
    signup_get,
    signup_mandate_clean,
    signup_payment_start,
)

logger = logging.getLogger(__name__)

FAILED_MESSAGES = {
    PaymentStatus.FAILED: "De betaling is mislukt. Er is niets afgeschreven; probeer het opnieuw.",
    PaymentStatus.CANCELED: "Je hebt de betaling geannuleerd. Je kunt het opnieuw proberen.",
    PaymentStatus.EXPIRED: "De betaling is verlopen. Je kunt het opnieuw proberen.",
}


class SignupState:
    """The sign-up's state in the session: one dict per library, JSON-safe."""

    def __init__(self, request: HttpRequest, library: Library):
        self.request = request
        self.session_key = f"signup:{library.code}"
        data = request.session.get(self.session_key)
        if not isinstance(data, dict) or self._expired(data):
            data = self._fresh()
        self.data: dict[str, Any] = data

    @staticmethod
    def _fresh() -> dict[str, Any]:
        return {
            "key": str(uuid.uuid4()),
            "expires": "",
            "subscription": "",
            "username": "",
            "account_id": "",
            "account_email": "",
            # The ID token of that sign-in: the member's consent to link the membership to
            # the account (bieb.kb.consent), handed on with "Betalen".
            "id_token": "",
            "details": {},
            "details_ok": False,
            # The direct debit for the following years, as typed: chosen, iban, holder_name
            # (the consent is given anew with each "Betalen").
            "debit": {},
            "payment": "",
            "done": False,
        }

    @staticmethod
    def _expired(data: dict[str, Any]) -> bool:
        try:
            return dt.datetime.fromisoformat(data["expires"]) <= timezone.now()
        except (KeyError, TypeError, ValueError):
            return True

    @property
    def key(self) -> uuid.UUID:
        return uuid.UUID(self.data["key"])

    def save(self) -> None:
        self.data["expires"] = (timezone.now() + SIGNUP_LIFETIME).isoformat()
        self.request.session[self.session_key] = self.data
        self.request.session.modified = True

    def reset(self) -> None:
        self.data = self._fresh()
        self.save()


class Flow:
    def __init__(self, request: HttpRequest, library: Library):
        self.request = request
        self.library = library
        self.state = SignupState(request, library)

    def offered(self) -> QuerySet[SubscriptionType]:
        return SubscriptionType.objects.filter(
            library=self.library, offered_online=True, active=True
        ).order_by("code")

    @cached_property
    def subscription_type(self) -> SubscriptionType | None:
        code = self.state.data.get("subscription")
        return self.offered().filter(code=code).first() if code else None

    @cached_property
    def current_membership(self) -> Membership | None:
        """The library's valid membership of the login account the member logged in with: such
        a member need not (and cannot) sign up again."""
        account_id = self.state.data.get("account_id")
        if not account_id:
            return None
        return signup_current_membership(
            library=self.library, account_id=account_id, on=local_today()
        )

    def url(self, name: str) -> str:
        return reverse("signup:step", args=[self.library.code, name])

    def absolute(self, path: str) -> str:
        return f"{settings.BIEB_BASE_URL}{path}"

    def is_done(self) -> bool:
        """Paid and registered, also when the member never came back from the payment page
        (the webhook completed the sign-up meanwhile)."""
        if not self.state.data.get("done") and self.state.data.get("payment"):
            signup = signup_get(library=self.library, registration_key=self.state.key)
            if signup is not None and signup.status == SignupStatus.COMPLETED:
                self.state.data["done"] = True
                self.state.save()
        return bool(self.state.data.get("done"))

    def first_incomplete(self) -> "Step | None":
        return next((step for step in STEPS if not step.is_completed(self)), None)

    def check_details(self) -> bool:
        """Check the kept details again (the subscription or the day may have changed)."""
        details = self.state.data.get("details") or {}
        ok = False
        if details and self.subscription_type is not None and self.state.data.get("account_id"):
            try:
                signup_details_check(
                    library=self.library,
                    subscription_type=self.subscription_type,
                    username=self.state.data["username"],
                    account_id=self.state.data["account_id"],
                    raw=details,
                    today=local_today(),
                )
                ok = True
            except ValidationError:
                ok = False
        self.state.data["details_ok"] = ok
        return ok

    def render(self, step: "Step", template: str, context: dict[str, Any]) -> HttpResponse:
        number = [s.name for s in STEPS].index(step.name) + 1
        context = {
            "library": self.library,
            "step": step,
            "step_number": number,
            "step_count": len(STEPS),
            "previous": self.url(STEPS[number - 2].name) if number > 1 else "",
            **context,
        }
        return render(self.request, template, context)


class Step(ABC):
    name: ClassVar[str]
    title: ClassVar[str]

    @abstractmethod
    def is_completed(self, flow: Flow) -> bool:
        """Whether the member has done this step (a later step may then be shown)."""

    @abstractmethod
    def get(self, flow: Flow, error: str = "") -> HttpResponse:
        """The step's page."""

    def post(self, flow: Flow) -> HttpResponse:
        return self.get(flow)

    def next(self, flow: Flow) -> HttpResponse:
        flow.state.save()
        following = flow.first_incomplete()
        return redirect(flow.url(following.name if following else PaymentStep.name))


class SubscriptionStep(Step):
    name = "abonnement"
    title = "Kies het type abonnement"

    def is_completed(self, flow: Flow) -> bool:
        return flow.subscription_type is not None

    def get(self, flow: Flow, error: str = "") -> HttpResponse:
        try:
            provider_for_library(flow.library)
            closed = ""
        except ProviderError as problem:
            closed = str(problem)
        return flow.render(
            self,
            "signup/subscription.html",
            {
                "offered": [(t, format_euro(t.price)) for t in flow.offered()],
                "chosen": flow.state.data.get("subscription"),
                "error": error,
                "closed": closed,
            },
        )

    def post(self, flow: Flow) -> HttpResponse:
        code = flow.request.POST.get("abonnement", "")
        if not flow.offered().filter(code=code).exists():
            return self.get(flow, error="Kies een abonnement.")
        if code != flow.state.data.get("subscription"):
            flow.state.data["subscription"] = code
            flow.__dict__.pop("subscription_type", None)
            flow.check_details()
        return self.next(flow)


class AccountStep(Step):
    name = "inlogaccount"
    title = "Inlogaccount"

    def is_completed(self, flow: Flow) -> bool:
        # The account is known by the id (`sub`) of the member's sign-in. An account that is a
        # member already goes no further: the member hears it here, right after logging in, not
        # after typing in everything.
        signed_in = bool(flow.state.data.get("username") and flow.state.data.get("account_id"))
        return signed_in and flow.current_membership is None

    def get(self, flow: Flow, error: str = "") -> HttpResponse:
        connect = flow.absolute(
            reverse("signup:account_connect", args=[flow.library.code])
            + "?"
            + urlencode({"abonnement": flow.state.data.get("subscription", "")})
        )
        base = kb_base_url()
        return flow.render(
            self,
            "signup/account.html",
            {
                "username": flow.state.data.get("username"),
                "current": flow.current_membership,
                "current_through": (
                    month_year_nl(flow.current_membership.valid_through)
                    if flow.current_membership
                    else ""
                ),
                "signup_url": f"{base}/kb/aanmelden/?{urlencode({'next': connect})}",
                "login_url": f"{base}/kb/inloggen/?{urlencode({'next': connect})}",
                "error": error,
                "next_url": flow.url(DetailsStep.name),
            },
        )

    def post(self, flow: Flow) -> HttpResponse:
        if flow.request.POST.get("actie") != "ander":
            return self.get(flow)
        # Another account: forget ours, and let the member sign out at the KB as well.
        flow.state.data.update(
            username="", account_id="", account_email="", id_token="", details_ok=False
        )
        flow.__dict__.pop("current_membership", None)
        flow.state.save()
        back = flow.absolute(flow.url(self.name))
        return redirect(f"{kb_base_url()}/kb/uitloggen/?{urlencode({'next': back})}")


class DetailsStep(Step):
    name = "gegevens"
    title = "Je gegevens"

    def is_completed(self, flow: Flow) -> bool:
        return bool(flow.state.data.get("details_ok"))

    def get(self, flow: Flow, error: str = "") -> HttpResponse:
        kept = dict(flow.state.data.get("details") or {})
        if kept and not flow.state.data.get("details_ok"):
            # Back here because the kept details no longer pass: show why.
            form = DetailsForm(kept)
            form.is_valid()
            self._check(flow, form)
        else:
            kept.setdefault("email", flow.state.data.get("account_email", ""))
            kept.setdefault("country", "NL")
            form = DetailsForm(initial=kept)
        return self._render(flow, form)

    def post(self, flow: Flow) -> HttpResponse:
        form = DetailsForm(flow.request.POST)
        form.is_valid()
        flow.state.data["details"] = form.raw()
        ok = self._check(flow, form)
        flow.state.data["details_ok"] = ok
        flow.state.save()
        if ok:
            return self.next(flow)
        return self._render(flow, form)

    def _check(self, flow: Flow, form: DetailsForm) -> bool:
        if flow.subscription_type is None or form.errors:
            return False
        try:
            signup_details_check(
                library=flow.library,
                subscription_type=flow.subscription_type,
                username=flow.state.data["username"],
                account_id=flow.state.data["account_id"],
                raw=form.raw(),
                today=local_today(),
            )
        except ValidationError as error:
            form.add_check_errors(error)
            return False
        return True

    def _render(self, flow: Flow, form: DetailsForm) -> HttpResponse:
        form.mark_errors()
        return flow.render(
            self,
            "signup/details.html",
            {"form": form, "subscription": flow.subscription_type},
        )


def plain_terms(*, costs: CostBuildUp, subscription_type: SubscriptionType) -> dict[str, str]:
    """The payment step in the member's words: for which period, and whether and how it renews.
    (The counter keeps Wise's words: Tariefcode, Vervalmaand, Rechten t/m.)"""
    months = subscription_type.period_months
    if subscription_type.renewal == RenewalKind.AUTOMATIC:
        every = "elk jaar" if months == 12 else f"elke {months} maanden"
        renewal = f"Je abonnement wordt {every} verlengd tot je opzegt."
    else:
        renewal = f"Je abonnement loopt na {months} maanden af, je kunt het dan verlengen."
    return {
        "period": (
            f"van {month_year_nl(costs.start)} tot en met {month_year_nl(costs.valid_through)}"
        ),
        "price": format_euro(costs.fee),
        "discount": format_euro(costs.discount_amount) if costs.discount_amount else "",
        "renewal": renewal,
    }


class PaymentStep(Step):
    name = "betalen"
    title = "Controleren en betalen"

    def is_completed(self, flow: Flow) -> bool:
        return bool(flow.state.data.get("done"))

    def get(
        self,
        flow: Flow,
        error: str = "",
        debit_errors: dict[str, list[str]] | None = None,
        consent_checked: bool = False,
    ) -> HttpResponse:
        assert flow.subscription_type is not None  # noqa: S101  (the flow checked the steps before)
        try:
            checked = signup_details_check(
                library=flow.library,
                subscription_type=flow.subscription_type,
                username=flow.state.data["username"],
                account_id=flow.state.data["account_id"],
                raw=flow.state.data["details"],
                today=local_today(),
            )
        except ValidationError:
            flow.state.data["details_ok"] = False
            flow.state.save()
            return redirect(flow.url(DetailsStep.name))
        notice = ""
        last = self._last_payment(flow)
        if last is not None and last.status in UNPAID_FINAL:
            notice = FAILED_MESSAGES[PaymentStatus(last.status)]
        try:
            provider = provider_for_library(flow.library)
            provider_name = provider.name
        except ProviderError as problem:
            provider_name = ""
            error = error or str(problem)
        return flow.render(
            self,
            "signup/costs.html",
            {
                "costs": checked.costs,
                "terms": plain_terms(costs=checked.costs, subscription_type=flow.subscription_type),
                "amount": format_euro(checked.costs.amount),
                "subscription": flow.subscription_type,
                "provider_name": provider_name,
                "notice": notice,
                "error": error,
                **self._debit_context(flow, checked, debit_errors or {}, consent_checked),
            },
        )

    def _debit_context(
        self,
        flow: Flow,
        checked: Checked,
        errors: dict[str, list[str]],
        consent_checked: bool,
    ) -> dict[str, Any]:
        """The choice of direct debit for the following years, as the member left it; nothing
        when it is not offered."""
        assert flow.subscription_type is not None  # noqa: S101
        if not signup_debit_offered(library=flow.library, subscription_type=flow.subscription_type):
            return {}
        typed = flow.state.data.get("debit") or {}
        details = checked.details
        own_name = " ".join(p for p in (details.initials, details.prefix, details.surname) if p)
        return {
            "debit_offered": True,
            "debit_chosen": bool(typed.get("chosen")),
            "iban_value": typed.get("iban", ""),
            "holder_value": typed.get("holder_name") or own_name,
            "consent_text": signup_consent_text(
                library=flow.library, registration_key=flow.state.key
            ),
            "consent_checked": consent_checked,
            "debit_errors": errors,
        }

    def _debit_chosen(self, flow: Flow) -> SignupMandate | None:
        """The posted choice: None when direct debit is not chosen; raises ValidationError (by
        field), or SignupError when it is not offered (a page from before the library stopped
        collecting). What was typed is kept in the session."""
        assert flow.subscription_type is not None  # noqa: S101
        posted = flow.request.POST
        if posted.get("incasso") != "ja":
            flow.state.data["debit"] = {}
            return None
        flow.state.data["debit"] = {
            "chosen": True,
            "iban": posted.get("iban", "")[:60],
            "holder_name": posted.get("holder_name", "")[:100],
        }
        flow.state.save()
        return signup_mandate_clean(
            library=flow.library,
            subscription_type=flow.subscription_type,
            registration_key=flow.state.key,
            iban=flow.state.data["debit"]["iban"],
            holder_name=flow.state.data["debit"]["holder_name"],
            consent_given=posted.get("consent") == "ja",
            ip=client_address(flow.request),
            user_agent=flow.request.headers.get("User-Agent", ""),
        )

    def _last_payment(self, flow: Flow) -> Any:
        public_id = flow.state.data.get("payment")
        if not public_id:
            return None
        return payment_get(library=flow.library, public_id=uuid.UUID(public_id))

    def post(self, flow: Flow) -> HttpResponse:
        assert flow.subscription_type is not None  # noqa: S101
        library_code = flow.library.code

        def return_url(public_id: uuid.UUID) -> str:
            return flow.absolute(reverse("signup:payment_return", args=[library_code, public_id]))

        consent_checked = flow.request.POST.get("consent") == "ja"
        try:
            mandate = self._debit_chosen(flow)
        except ValidationError as error:
            return self.get(flow, debit_errors=error.message_dict, consent_checked=consent_checked)
        except SignupError as problem:
            flow.state.data["debit"] = {}
            flow.state.save()
            return self.get(flow, error=str(problem))
        try:
            payment = signup_payment_start(
                library=flow.library,
                registration_key=flow.state.key,
                subscription_type=flow.subscription_type,
                username=flow.state.data["username"],
                account_id=flow.state.data["account_id"],
                raw=flow.state.data["details"],
                today=local_today(),
                return_url=return_url,
                mandate=mandate,
                id_token=str(flow.state.data.get("id_token") or ""),
            )
        except ValidationError:
            flow.state.data["details_ok"] = False
            flow.state.save()
            return redirect(flow.url(DetailsStep.name))
        except SignupError as problem:
            return self.get(flow, error=str(problem), consent_checked=consent_checked)
        except ProviderError as problem:
            logger.warning("sign-up %s: payment not started: %s", flow.state.key, problem)
            return self.get(
                flow,
                error="Betalen lukt op dit moment niet. Probeer het over een paar minuten opnieuw.",
                consent_checked=consent_checked,
            )
        flow.state.data["payment"] = str(payment.public_id)
        flow.state.save()
        if payment.status in UNSETTLED and payment.checkout_url:
            return redirect(payment.checkout_url)
        return redirect(return_url(payment.public_id))


STEPS: list[Step] = [SubscriptionStep(), AccountStep(), DetailsStep(), PaymentStep()]
STEPS_BY_NAME = {step.name: step for step in STEPS}
