""" "Mijn inlogaccount" at /kb/account/ (also at /kb/): the member's own login account.

Thin views over bieb.kb.self_service. Every change is a POST with a once-only key (a double
click changes nothing twice; the second answer is the first one's page); what was typed comes
back with the errors, in Dutch, with the focus on the first field in error.
"""

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from bieb.core.dates import lifetime_label
from bieb.core.http import client_address
from bieb.core.models import Submission
from bieb.core.submissions import AlreadySubmitted, submission_claim, submission_key_parse
from bieb.kb import self_service
from bieb.kb.forms import (
    AccountDeleteForm,
    EmailChangeForm,
    KbForm,
    PasswordChangeForm,
    UsernameChangeForm,
)
from bieb.kb.models import LinkedMembership, LoginAccount
from bieb.kb.session import current_account, kb_logout, kb_session_keep
from bieb.kb.signins import sign_ins_recent
from bieb.kb.tokens import decode_account, email_change_tokens
from bieb.kb.views import _add_errors

AccountView = Callable[..., HttpResponse]
TAG = "kb"  # the messages of these pages


def signed_in(view: AccountView) -> Callable[..., HttpResponse]:
    """The page of the member signed in at the login service; others log in first and come
    back here."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = current_account(request)
        if account is None:
            login = reverse("kb:login")
            target = request.path if request.method == "GET" else reverse("kb:account")
            return redirect(f"{login}?next={target}")
        return view(request, account, *args, **kwargs)

    return never_cache(wrapper)


class Once:
    """The form's once-only key (the hidden field `once`) for one kind of change."""

    def __init__(self, request: HttpRequest, scope: str) -> None:
        self.key = submission_key_parse(request.POST.get("once"))
        self.scope = scope

    def done_before(self) -> bool:
        """This very form was sent before and its change made (the answer to a second click
        after the first was answered)."""
        return (
            self.key is not None
            and Submission.objects.filter(key=self.key, scope=self.scope).exists()
        )

    def claim(self) -> None:
        """In the change's transaction; AlreadySubmitted when a concurrent click made it."""
        if self.key is not None:
            submission_claim(key=self.key, scope=self.scope)


def _done(request: HttpRequest, message: str) -> HttpResponse:
    messages.success(request, message, extra_tags=TAG)
    return redirect("kb:account")


def _form_page(
    request: HttpRequest, template: str, form: KbForm, status: int = 200, **context: Any
) -> HttpResponse:
    return render(request, template, {"form": form, "once": uuid.uuid4, **context}, status=status)


@signed_in
def account_page(request: HttpRequest, account: LoginAccount) -> HttpResponse:
    memberships = LinkedMembership.objects.filter(account=account).order_by("library_name")
    return render(
        request,
        "kb/account/account.html",
        {
            "account": account,
            "memberships": memberships,
            "sign_ins": sign_ins_recent(account=account),
            "notices": [m for m in messages.get_messages(request) if m.extra_tags == TAG],
        },
    )


# --- username --------------------------------------------------------------------------------

USERNAME_DONE = "Je gebruikersnaam is gewijzigd. Log voortaan in met {name}."


@signed_in
def username_page(request: HttpRequest, account: LoginAccount) -> HttpResponse:
    form = UsernameChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        once = Once(request, "kb.username")
        if once.done_before():
            return _done(request, USERNAME_DONE.format(name=account.username))
        try:
            self_service.username_change(
                account=account,
                username=form.cleaned_data["username"],
                ip=client_address(request),
                claim=once.claim,
            )
        except ValidationError as error:
            _add_errors(form, error)
        except AlreadySubmitted:
            account.refresh_from_db()
            return _done(request, USERNAME_DONE.format(name=account.username))
        else:
            return _done(request, USERNAME_DONE.format(name=account.username))
    return _form_page(
        request,
        "kb/account/username.html",
        form,
        status=400 if form.errors else 200,
        account=account,
    )


# --- e-mail address --------------------------------------------------------------------------


@signed_in
def email_page(request: HttpRequest, account: LoginAccount) -> HttpResponse:
    form = EmailChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        once = Once(request, "kb.email")
        if not once.done_before():
            try:
                self_service.email_change_request(
                    account=account,
                    email=form.cleaned_data["email"],
                    actor=f"lid:{account.username}",
                    ip=client_address(request),
                    claim=once.claim,
                )
            except ValidationError as error:
                _add_errors(form, error)
            except AlreadySubmitted:
                pass  # the same form, a moment ago: its mail is on its way
        if not form.errors:
            account.refresh_from_db()
            return render(request, "kb/account/email_sent.html", {"account": account})
    return _form_page(
        request,
        "kb/account/email.html",
        form,
        status=400 if form.errors else 200,
        account=account,
        hours=lifetime_label(email_change_tokens.lifetime()),
    )


@signed_in
@require_POST
def email_cancel(request: HttpRequest, account: LoginAccount) -> HttpResponse:
    self_service.email_change_cancel(account=account, ip=client_address(request))
    return _done(request, "Het nieuwe e-mailadres is vergeten; de link ernaar werkt niet meer.")


@never_cache
def email_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link in the confirmation mail. GET shows what is to be confirmed (mail scanners open
    links); only the POST of its button changes the address. Needs no sign-in: the link proves
    the mailbox, and the change was asked for by the signed-in member (or at the counter)."""
    account = decode_account(uidb64)
    # The key is claimed for this account only: a key of one's own confirmation shows nothing
    # about another account.
    once = Once(request, f"kb.email_confirm:{account.pk.hex if account else ''}")
    if request.method == "POST" and account is not None and once.done_before():
        return render(request, "kb/account/email_confirmed.html", {"account": account})
    if account is None or not email_change_tokens.is_valid(account, token):
        return render(request, "kb/link_invalid.html", {"kind": "email"}, status=410)
    error = ""
    if request.method == "POST":
        try:
            self_service.email_change_confirm(
                account=account, token=token, ip=client_address(request), claim=once.claim
            )
        except ValidationError as failure:
            error = failure.messages[0]
        except AlreadySubmitted:
            return render(request, "kb/account/email_confirmed.html", {"account": account})
        else:
            return render(request, "kb/account/email_confirmed.html", {"account": account})
    return render(
        request,
        "kb/account/email_confirm.html",
        {"account": account, "error": error, "once": uuid.uuid4},
        status=400 if error else 200,
    )


# --- password and sessions -------------------------------------------------------------------

CHANGED_NOTICE = (
    "Je wachtwoord is gewijzigd. Je bent overal uitgelogd, behalve hier; bij de Online "
    "Bibliotheek log je opnieuw in."
)


@signed_in
@sensitive_post_parameters("current", "password1", "password2")
def password_page(request: HttpRequest, account: LoginAccount) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        once = Once(request, "kb.password")
        if once.done_before():
            return _done(request, CHANGED_NOTICE)
        try:
            self_service.password_change(
                account=account,
                current=form.cleaned_data["current"],
                password=form.cleaned_data["password1"],
                ip=client_address(request),
                session_keep=lambda changed: kb_session_keep(request, changed),
                claim=once.claim,
            )
        except ValidationError as error:
            _add_errors(form, error, {"password": "password1"})
        except AlreadySubmitted:
            return _done(request, CHANGED_NOTICE)
        else:
            return _done(request, CHANGED_NOTICE)
    return _form_page(
        request,
        "kb/account/password.html",
        form,
        status=400 if form.errors else 200,
        account=account,
        rules=form.rules(),
    )


@never_cache
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    """ "Overal uitloggen": every session of the account ends, this one too, and every OIDC
    token. A second click (already signed out) gets the same page."""
    account = current_account(request)
    if account is not None:
        self_service.sessions_end_everywhere(account=account, ip=client_address(request))
    kb_logout(request)
    return render(request, "kb/account/logged_out_everywhere.html")


# --- data and deletion -----------------------------------------------------------------------


@signed_in
def data_page(request: HttpRequest, account: LoginAccount) -> HttpResponse:
    """ "Download mijn gegevens", readable: the same content as the JSON file."""
    data = self_service.account_export(account=account)
    return render(
        request, "kb/account/data.html", {"account": account, "sections": _readable(data)}
    )


def _readable(data: dict[str, Any]) -> list[tuple[str, list[list[tuple[str, str]]]]]:
    """The export as the page shows it: per part its records, each a list of (label, value),
    the values in words ("ja", "nee", "—")."""

    def word(value: object) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return "ja" if value else "nee"
        if isinstance(value, list):
            return ", ".join(str(item) for item in value) or "—"
        return str(value)

    sections = []
    for title, content in data.items():
        records = content if isinstance(content, list) else [content]
        sections.append(
            (title, [[(label, word(value)) for label, value in r.items()] for r in records])
        )
    return sections


@signed_in
def data_json(request: HttpRequest, account: LoginAccount) -> HttpResponse:
    data = self_service.account_export(account=account)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="inlogaccount-{day}.json"'
    return response


@sensitive_post_parameters("password")
@never_cache
def delete_page(request: HttpRequest) -> HttpResponse:
    once = Once(request, "kb.delete")
    if request.method == "POST" and once.done_before():
        return render(request, "kb/account/deleted.html")
    return _delete_page(request)


@signed_in
def _delete_page(request: HttpRequest, account: LoginAccount) -> HttpResponse:
    form = AccountDeleteForm(request.POST or None)
    memberships = LinkedMembership.objects.filter(account=account).order_by("library_name")
    if request.method == "POST" and form.is_valid():
        once = Once(request, "kb.delete")
        try:
            self_service.account_delete_own(
                account=account,
                password=form.cleaned_data["password"],
                ip=client_address(request),
                claim=once.claim,
            )
        except ValidationError as error:
            _add_errors(form, error)
        except AlreadySubmitted:
            return render(request, "kb/account/deleted.html")
        else:
            kb_logout(request)
            return render(request, "kb/account/deleted.html")
    return _form_page(
        request,
        "kb/account/delete.html",
        form,
        status=400 if form.errors else 200,
        account=account,
        memberships=memberships,
    )
