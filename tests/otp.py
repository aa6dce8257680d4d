"""Logging in to /admin/ as a national operator, second factor included: the TOTP code is
computed with django-otp's own TOTP from the device's secret, as an authenticator app would."""

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from bieb.staff.models import User


def totp_code(device: TOTPDevice) -> str:
    return (
        f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"
    )


def operator_device(user: User) -> TOTPDevice:
    """The operator's confirmed device; one is made (as the setup page would) if there is none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def admin_login(client: Client, user: User, password: str) -> None:
    """Log in through the admin's own login form, with the password and the current code."""
    data = {
        "username": user.username,
        "password": password,
        "otp_token": totp_code(operator_device(user)),
    }
    response = client.post("/admin/login/?next=/admin/", data)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == "/admin/"
