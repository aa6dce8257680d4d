"""Reads of the KB outbox: what the counter shows of a customer's calls to the KB, and what
operators see of calls that are stuck."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from bieb.kboutbox.models import OPEN_STATES, KBCall, KBCallKind, KBCallState

# The calls that give a customer a login account: until one is done the counter shows it as
# "wordt aangemaakt" (or "wordt gekoppeld").
ACCOUNT_KINDS = (KBCallKind.ACCOUNT_CREATE, KBCallKind.ACCOUNT_LINK, KBCallKind.ACCOUNT_LINK_OWN)
UNAVAILABLE_LABEL = "KB niet bereikbaar, wordt opnieuw geprobeerd"
# What staff can do after the KB refused, per kind.
REFUSED_ADVICE = {
    KBCallKind.ACCOUNT_CREATE: (
        "Controleer het e-mailadres (Wijzig persoonsgegevens), kies 'Vergeet inlogaccount' en "
        "genereer daarna een nieuw inlogaccount."
    ),
    KBCallKind.ACCOUNT_LINK: (
        "Het koppelen is niet gebeurd: kies opnieuw 'Bestaand inlogaccount gebruiken' voor een "
        "nieuwe code."
    ),
    KBCallKind.ACCOUNT_LINK_OWN: (
        "Het inlogaccount van de klant is niet (meer) actief. Koppel het met 'Bestaand "
        "inlogaccount gebruiken' zodra de klant het weer kan gebruiken, of genereer een nieuw."
    ),
    KBCallKind.ACTIVATION_RESEND: "Probeer 'Opnieuw versturen' over een paar minuten nog eens.",
    KBCallKind.EMAIL_CHANGE: (
        "Controleer het e-mailadres van de klant (Wijzig persoonsgegevens) en probeer het opnieuw."
    ),
}
DEFAULT_ADVICE = "Meld het aan de beheerder van Bieb (bieb kboutbox)."
# A refusal stays on the customer page this long, unless a later call of its kind replaced it.
REFUSAL_SHOWN = dt.timedelta(days=7)


def _moment(value: dt.datetime | None) -> str:
    return f"{timezone.localtime(value):%d-%m-%Y %H:%M}" if value else ""


@dataclass(frozen=True)
class KBCallView:
    """One call as the counter shows it."""

    call: KBCall

    @property
    def kind_label(self) -> str:
        return str(KBCallKind(self.call.kind).label)

    @property
    def is_open(self) -> bool:
        return self.call.state in OPEN_STATES

    @property
    def is_refused(self) -> bool:
        return self.call.state == KBCallState.REFUSED

    @property
    def is_unavailable(self) -> bool:
        return self.is_open and self.call.attempts > 0 and self.call.unavailable

    @property
    def last_attempt(self) -> str:
        return _moment(self.call.last_attempt_at)

    @property
    def label(self) -> str:
        """Where the call stands, in the counter's words."""
        if self.is_refused:
            return "geweigerd door de KB"
        if self.is_open and self.call.attempts > 0 and self.call.state == KBCallState.PENDING:
            reason = (
                UNAVAILABLE_LABEL if self.call.unavailable else "mislukt, wordt opnieuw geprobeerd"
            )
            return f"{reason} (laatste poging {self.last_attempt})"
        if self.call.kind == KBCallKind.ACCOUNT_CREATE:
            return "wordt aangemaakt"
        if self.call.kind in ACCOUNT_KINDS:
            return "wordt gekoppeld"
        return "wordt doorgegeven aan de KB"

    @property
    def refusal(self) -> str:
        return self.call.last_error if self.is_refused else ""

    @property
    def advice(self) -> str:
        return REFUSED_ADVICE.get(KBCallKind(self.call.kind), DEFAULT_ADVICE)

    @property
    def username(self) -> str:
        """The username the call will give or link: the customer number for a new account (as
        a rule), the typed one for a link."""
        return str(self.call.payload.get("username", ""))


def kb_call_account(*, customer_id: int) -> KBCallView | None:
    """The customer's latest call that gives them a login account, while it is open or was
    refused (and nothing replaced it); None once it is done."""
    latest = (
        KBCall.objects.filter(customer_id=customer_id, kind__in=ACCOUNT_KINDS)
        .exclude(state=KBCallState.CANCELLED)
        .order_by("-pk")
        .first()
    )
    if latest is None or latest.state == KBCallState.DONE:
        return None
    if (
        latest.state == KBCallState.REFUSED
        and latest.finished_at
        and (latest.finished_at < timezone.now() - REFUSAL_SHOWN)
    ):
        return None
    return KBCallView(latest)


def kb_calls_shown(*, customer_id: int) -> list[KBCallView]:
    """The customer's other calls that staff should see: open ones, and refusals that no later
    call of their kind replaced (the account's own call: `kb_call_account`)."""
    since = timezone.now() - REFUSAL_SHOWN
    calls = list(
        KBCall.objects.filter(customer_id=customer_id, created_at__gte=since)
        .exclude(kind__in=ACCOUNT_KINDS)
        .order_by("-pk")
    )
    shown, seen = [], set()
    for call in calls:
        if call.kind in seen:
            continue
        seen.add(call.kind)
        if call.state in OPEN_STATES or call.state == KBCallState.REFUSED:
            shown.append(KBCallView(call))
    return shown


def kb_calls_link_open(*, customer_id: int) -> bool:
    """Whether a call that links the customer to an existing login account has not been made
    yet (its id comes with the answer; a new account's id is the customer's already)."""
    return KBCall.objects.filter(
        customer_id=customer_id,
        kind__in=(KBCallKind.ACCOUNT_LINK, KBCallKind.ACCOUNT_LINK_OWN),
        state__in=OPEN_STATES,
    ).exists()


def kb_calls_stuck(
    *, older_than: dt.timedelta = dt.timedelta(minutes=5), refused: bool = True
) -> QuerySet[KBCall]:
    """For operators: calls open for longer than `older_than` (the KB unreachable, or a fault),
    and (with `refused`) the refused ones, oldest first."""
    stuck = KBCall.objects.filter(state__in=OPEN_STATES, created_at__lt=timezone.now() - older_than)
    if refused:
        stuck = stuck | KBCall.objects.filter(state=KBCallState.REFUSED)
    return stuck.select_related("library", "customer").order_by("pk")
