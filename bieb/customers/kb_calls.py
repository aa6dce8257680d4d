"""How the customer administration's calls to the login service (the KB) are made, from the
library's outbox (bieb.kboutbox): each kind's call, and what the library writes of the answer.

Every call may reach the KB more than once (an answer lost on the way back, a worker that
died), so each is idempotent there:
- a new account has the id the library chose before the first attempt; the KB gives an id it
  knows already back as it is (no second account, no second activation mail);
- a link that is there already is answered as done (no second "gekoppeld" mail; the code,
  used up by the first attempt, is not asked for again);
- forgetting and the membership copies are the same however often they are done;
- a resend or an e-mail change is looked up first on a retry: a deadline later than the one
  before the request (or the new address waiting) means the first attempt got through.
The membership data is read when the call is made, not when it was queued, so that a call that
waited sends what holds now.
"""

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from bieb.customers.models import Customer, Membership
from bieb.customers.year import memberships_data
from bieb.kb import interface as login_service
from bieb.kboutbox.models import KBCall, KBCallKind
from bieb.kboutbox.services import kb_call_handler

GONE = "De klant of het abonnement bestaat niet meer bij de bibliotheek."


def _memberships(ids: list[int]) -> list[Membership]:
    return list(
        Membership.objects.filter(pk__in=ids)
        .select_related("library", "subscription_type", "customer")
        .order_by("pk")
    )


def _membership(call: KBCall) -> login_service.MembershipData:
    found = _memberships([int(call.payload["membership_id"])])
    if not found:
        raise ValidationError(GONE)
    return memberships_data(found)[0]


def _account(status: login_service.AccountStatus) -> dict[str, Any]:
    return {"account_id": str(status.id) if status.id else "", "username": status.username}


def _when(value: str | None) -> dt.datetime | None:
    return parse_datetime(value) if value else None


def _create(call: KBCall) -> dict[str, Any]:
    status = login_service.create_account(
        email=call.payload["email"],
        membership=_membership(call),
        actor=call.actor,
        account_id=uuid.UUID(call.payload["account_id"]),
    )
    return _account(status)


def _link_apply(call: KBCall, result: dict[str, Any]) -> None:
    """The library learns the linked account's id from the KB's answer."""
    if not result.get("account_id") or call.customer_id is None:
        return
    Customer.objects.filter(pk=call.customer_id, login_account_id__isnull=True).update(
        login_account_id=uuid.UUID(result["account_id"]),
        login_account_lapsed=False,
        uses_login_account=True,
    )


def _link(call: KBCall) -> dict[str, Any]:
    status = login_service.link_account(
        username=call.payload["username"],
        code=call.payload.get("code", ""),
        membership=_membership(call),
        actor=call.actor,
    )
    return _account(status)


def _link_own(call: KBCall) -> dict[str, Any]:
    status = login_service.link_account_by_id(
        account_id=uuid.UUID(call.payload["account_id"]),
        membership=_membership(call),
        actor=call.actor or "online",
        id_token=call.payload.get("id_token", ""),
    )
    return _account(status)


def _forget(call: KBCall) -> dict[str, Any]:
    login_service.forget_account(
        account_id=uuid.UUID(call.payload["account_id"]),
        library_code=call.payload["library_code"],
        customer_number=call.payload["customer_number"],
        actor=call.actor,
    )
    return {}


def _got_through(call: KBCall, *, email: str = "") -> bool:
    """On a retry: whether an earlier attempt of this resend or e-mail change reached the KB
    (its answer lost): the account has a later activation deadline than before the request,
    or (an active account's e-mail change) the new address waits for confirmation."""
    if call.attempts <= 1:
        return False
    status = login_service.account_status_by_id(account_id=uuid.UUID(call.payload["account_id"]))
    if email and status.pending_email.strip().lower() == email.strip().lower():
        return True
    before = _when(call.payload.get("deadline_before"))
    if before is None or status.activation_deadline is None:
        return False
    same_address = not email or status.email.strip().lower() == email.strip().lower()
    return same_address and status.activation_deadline > before


def _resend(call: KBCall) -> dict[str, Any]:
    if _got_through(call):
        return {"earlier_attempt": True}
    status = login_service.resend_activation(
        account_id=uuid.UUID(call.payload["account_id"]), actor=call.actor
    )
    return _account(status)


def _email_change(call: KBCall) -> dict[str, Any]:
    email = call.payload["email"]
    if _got_through(call, email=email):
        return {"earlier_attempt": True}
    status = login_service.account_email_change_request(
        account_id=uuid.UUID(call.payload["account_id"]), email=email, actor=call.actor
    )
    return {**_account(status), "state": str(status.state)}


def _memberships_update(call: KBCall) -> dict[str, Any]:
    found = [
        m
        for m in _memberships([int(pk) for pk in call.payload["membership_ids"]])
        if m.customer.login_account_id is not None
    ]
    if found:
        login_service.update_memberships(memberships=memberships_data(found))
    return {"count": len(found)}


kb_call_handler(KBCallKind.ACCOUNT_CREATE)(_create)
kb_call_handler(KBCallKind.ACCOUNT_LINK, apply=_link_apply)(_link)
kb_call_handler(KBCallKind.ACCOUNT_LINK_OWN)(_link_own)
kb_call_handler(KBCallKind.ACCOUNT_FORGET)(_forget)
kb_call_handler(KBCallKind.ACTIVATION_RESEND)(_resend)
kb_call_handler(KBCallKind.EMAIL_CHANGE)(_email_change)
kb_call_handler(KBCallKind.MEMBERSHIPS_UPDATE)(_memberships_update)
