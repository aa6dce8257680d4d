"""Pages of the login service: sign up, activate, log in and out, forgotten password/username.
The member's own account pages ("Mijn inlogaccount") are bieb.kb.account_views."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from bieb.core.http import client_address
from bieb.kb import services
from bieb.kb.forms import (
    ForgotPasswordForm,
    ForgotUsernameForm,
    LoginForm,
    NewPasswordForm,
    SignupForm,
)
from bieb.kb.models import LoginAccount
from bieb.kb.session import kb_login, kb_logout, safe_next
from bieb.kb.tokens import (
    ActivationTokenGenerator,
    ResetTokenGenerator,
    activation_tokens,
    decode_account,
    reset_tokens,
)


def user_agent(request: HttpRequest) -> str:
    """The browser's own description, for the member's list of sign-ins (bieb.kb.signins)."""
    return str(request.META.get("HTTP_USER_AGENT", ""))[:500]


# Where a member goes after activating when the link names no next step (an account made at the
# counter): into the Online Bibliotheek, through its login.
ONLINE_LOGIN = "/online/inloggen/"


def _add_errors(form: object, error: ValidationError, fields: dict[str, str] | None = None) -> None:
    """Put a service's errors on the form: on the field they name (`fields` maps a service's
    name to the form's where they differ), else above the form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            name = (fields or {}).get(field, field)
            target = name if name in form.fields else None  # type: ignore[attr-defined]
            for message in messages:
                form.add_error(target, message)  # type: ignore[attr-defined]
    else:
        for message in error.messages:
            form.add_error(None, message)  # type: ignore[attr-defined]


@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_signup(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                ip=client_address(request),
                next_url=next_url,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return render(request, "kb/signup_done.html", {"account": account})
    return render(request, "kb/signup.html", {"form": form, "next": next_url})


def _new_password_page(
    request: HttpRequest,
    *,
    uidb64: str,
    token: str,
    kind: str,
    tokens: ActivationTokenGenerator | ResetTokenGenerator,
    use_link: Callable[..., None],
    template: str,
    done: Callable[[LoginAccount], HttpResponse],
) -> HttpResponse:
    """A page behind a mailed link that asks for a new password twice.

    GET only shows the form (mail scanners open links); a valid POST uses the link up."""
    account = decode_account(uidb64)
    if account is None or not tokens.is_valid(account, token):
        return render(request, "kb/link_invalid.html", {"kind": kind}, status=410)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            use_link(
                account=account,
                token=token,
                password=form.cleaned_data["password1"],
                ip=client_address(request),
                session_start=lambda signed_in: kb_login(request, signed_in),
                user_agent=user_agent(request),
            )
        except ValidationError as error:
            _add_errors(form, error, {"password": "password1"})
        else:
            account.refresh_from_db()
            return done(account)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    context = {"form": form, "account": account, "rules": form.rules(), "next": next_url}
    return render(request, template, context)


@never_cache
@sensitive_post_parameters("password1", "password2")
def activate(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))

    def done(account: LoginAccount) -> HttpResponse:
        # Signed in by now: the way on (a sign-up's next step, or the Online Bibliotheek's
        # login) passes the login service without a form.
        return redirect(next_url or ONLINE_LOGIN)

    return _new_password_page(
        request,
        uidb64=uidb64,
        token=token,
        kind="activation",
        tokens=activation_tokens,
        use_link=services.account_activate,
        template="kb/activate.html",
        done=done,
    )


@never_cache
@sensitive_post_parameters("password")
def login(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_authenticate(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                ip=client_address(request),
                session_start=lambda account: kb_login(request, account),
                user_agent=user_agent(request),
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return redirect(next_url or "kb:account")
    return render(request, "kb/login.html", {"form": form, "next": next_url}, status=200)


def logout(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        kb_logout(request)
        next_url = safe_next(request, request.POST.get("next"))
        return redirect(next_url or "kb:login")
    return render(request, "kb/logout.html", {"next": safe_next(request, request.GET.get("next"))})


@never_cache
def forgot_password(request: HttpRequest) -> HttpResponse:
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(
            identifier=form.cleaned_data["username"], ip=client_address(request)
        )
        return render(request, "kb/forgot_done.html", {"what": "password"})
    return render(request, "kb/forgot_password.html", {"form": form})


@never_cache
@sensitive_post_parameters("password1", "password2")
def reset_password(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    return _new_password_page(
        request,
        uidb64=uidb64,
        token=token,
        kind="reset",
        tokens=reset_tokens,
        use_link=services.password_reset,
        template="kb/reset_password.html",
        # Signed in as after activating: the link proved the mailbox, the password was just
        # chosen. The page says so, since a reset may start anywhere, not only at /online/.
        done=lambda account: render(
            request, "kb/reset_done.html", {"account": account, "online_login": ONLINE_LOGIN}
        ),
    )


@never_cache
def forgot_username(request: HttpRequest) -> HttpResponse:
    form = ForgotUsernameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.username_reminder(email=form.cleaned_data["email"], ip=client_address(request))
        return render(request, "kb/forgot_done.html", {"what": "username"})
    return render(request, "kb/forgot_username.html", {"form": form})
