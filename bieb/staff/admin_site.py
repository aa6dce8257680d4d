"""/admin/: the configuration site, with the staff login limits and, for national operators
(superusers), a second factor: a TOTP code from an authenticator app (django-otp).

A superuser reaches nothing in /admin/ until their session is verified with a code. One without
a confirmed device logs in with the password and is led to set up an app first (the secret as a
QR code and as text); a second device is added by a verified operator, in the admin's TOTP
pages. Counter staff and a library's own admins (staff, not superusers) log in as before."""

from base64 import b32encode
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from bieb.staff.login import staff_authenticate
from bieb.staff.models import User

ADMIN_REFUSED = "Gebruikersnaam, wachtwoord of verificatiecode klopt niet."


class AdminLoginForm(AdminAuthenticationForm):
    otp_token = forms.CharField(
        label="Verificatiecode",
        required=False,
        max_length=10,
        help_text=(
            "Alleen voor landelijk beheerders: de 6 cijfers die uw authenticator-app nu toont. "
            "Nog geen app ingesteld? Laat dit leeg; u stelt hem na het inloggen in."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = staff_authenticate(
                request=self.request,  # type: ignore[arg-type]
                username=username,
                password=password,
                second_factor=self._second_factor,
                refused=ADMIN_REFUSED,
            )
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def _second_factor(self, user: User) -> bool:
        """Superusers with a device need its current code; the device goes into the session
        with the login (django-otp does that for a user with `otp_device`)."""
        if not user.is_superuser:
            return True
        devices = list(TOTPDevice.objects.devices_for_user(user, confirmed=True))
        if not devices:
            return True  # logged in, but nothing in /admin/ before the setup page
        token = "".join(self.cleaned_data.get("otp_token", "").split())
        for device in devices:
            if device.verify_token(token):
                user.otp_device = device  # type: ignore[attr-defined]
                return True
        return False


class SetupForm(forms.Form):
    otp_token = forms.CharField(
        label="Verificatiecode",
        max_length=10,
        help_text="De 6 cijfers die de app nu toont.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _verified(user: Any) -> bool:
    """Verified with a second factor in this session: django-otp's middleware (and its login)
    set `otp_device` on the user."""
    return getattr(user, "otp_device", None) is not None


def _needs_setup(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.is_superuser
        and not _verified(user)
        and not TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()
    )


def demo_code() -> str:
    """The current code of the demo operator's device (demo mode only, shown on the login page
    like the demo mailbox shows mail)."""
    if not settings.DEMO:
        return ""
    from bieb.core.demo_logins import ADMIN, DEMO_TOTP_DEVICE

    device = TOTPDevice.objects.filter(
        user__username=ADMIN["username"], name=DEMO_TOTP_DEVICE, confirmed=True
    ).first()
    if device is None:
        return ""
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


class BiebAdminSite(admin.AdminSite):
    site_header = "Bieb beheer"
    site_title = "Bieb beheer"
    index_title = "Configuratie"
    login_form = AdminLoginForm
    login_template = "staff/admin_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        return super().has_permission(request) and (not user.is_superuser or _verified(user))

    def get_urls(self) -> list[URLPattern | URLResolver]:
        setup = path("tweestapsverificatie/", self.second_factor_setup, name="second_factor_setup")
        return [setup, *super().get_urls()]

    @method_decorator(never_cache)
    @method_decorator(sensitive_post_parameters("password", "otp_token"))
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if _needs_setup(request.user):
            return redirect("admin:second_factor_setup")
        context = {"demo_code": demo_code(), **(extra_context or {})}
        response = super().login(request, context)
        if request.method == "POST" and _needs_setup(request.user):
            return redirect("admin:second_factor_setup")
        return response

    @method_decorator(never_cache)
    @method_decorator(sensitive_post_parameters("otp_token"))
    def second_factor_setup(self, request: HttpRequest) -> HttpResponse:
        """Set up an authenticator app: only for a logged-in superuser without a confirmed
        device; the first right code confirms it and verifies the session."""
        user: Any = request.user
        if not _needs_setup(user):
            return redirect("admin:index" if self.has_permission(request) else "admin:login")
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="authenticator-app", confirmed=False)
        form = SetupForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            token = "".join(form.cleaned_data["otp_token"].split())
            if device.verify_token(token):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                otp_login(request, device)
                return redirect("admin:index")
            form.add_error("otp_token", "Deze code klopt niet. Typ de code die de app nu toont.")
        secret = b32encode(device.bin_key).decode()
        context = {
            **self.each_context(request),
            "available_apps": [],
            "is_nav_sidebar_enabled": False,
            "title": "Tweestapsverificatie instellen",
            "form": form,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr": segno.make(device.config_url, error="m").svg_inline(scale=4),
        }
        request.current_app = self.name
        return TemplateResponse(request, "staff/second_factor_setup.html", context)
