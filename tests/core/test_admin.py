"""The configuration in /admin/, in Dutch, and scoped to a library for a library's own admin."""

import re
from base64 import b32encode

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from bieb.core.demo_logins import DEMO_TOTP_SECRET
from bieb.libraries.models import Library, SubscriptionType
from bieb.staff.models import User
from tests.otp import admin_login, totp_code

pytestmark = pytest.mark.django_db


def test_the_admin_shows_the_configuration_in_dutch(client: Client, demo: None) -> None:
    admin_login(client, User.objects.get(username="beheer"), settings.BIEB_DEMO_PASSWORD)
    index = client.get("/admin/").content.decode()
    assert "Bibliotheken en abonnementen" in index
    assert "Abonnementstypen" in index
    assert "Tariefcodes" in index
    assert "Afmelden" in index and "Wachtwoord wijzigen" in index  # Django's own, in Dutch
    listing = client.get("/admin/libraries/subscriptiontype/").content.decode()
    assert "Digital only" in listing and "digitale rechten" in listing.lower()


def test_the_demo_operator_logs_in_with_the_demo_password_and_the_code_on_the_page(
    client: Client, demo: None
) -> None:
    page = client.get("/admin/login/?next=/admin/").content.decode()
    code = re.search(r'id="demo-code">(\d{6})<', page)
    assert code is not None, page
    device = TOTPDevice.objects.get(user__username="beheer", name="demo")
    assert b32encode(device.bin_key).decode() == DEMO_TOTP_SECRET  # as README and banner say
    assert code.group(1) == totp_code(device)
    page = client.post(
        "/admin/login/?next=/admin/",
        {"username": "beheer", "password": "demo-balie", "otp_token": code.group(1)},
        follow=True,
    )
    assert "Configuratie" in page.content.decode()


def test_the_code_is_not_shown_outside_demo_mode(client: Client, demo: None) -> None:
    with override_settings(DEMO=False):
        assert 'id="demo-code"' not in client.get("/admin/login/").content.decode()


def test_an_operator_needs_the_code_as_well_as_the_password(client: Client, demo: None) -> None:
    beheer = User.objects.get(username="beheer")
    for code in ["", "000000", "123456"]:
        data = {"username": "beheer", "password": "demo-balie", "otp_token": code}
        page = client.post("/admin/login/?next=/admin/", data)
        assert page.status_code == 200
        assert "Gebruikersnaam, wachtwoord of verificatiecode klopt niet." in page.content.decode()
        assert client.get("/admin/").status_code == 302
    # a session that knows only the password (e.g. from another login form) gets nothing
    client.force_login(beheer)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/admin/mail/outboxmessage/").status_code == 302


def test_an_operator_without_an_app_is_led_to_set_one_up_first(client: Client, demo: None) -> None:
    User.objects.create_superuser("nieuwebeheerder", password="lang-genoeg-wachtwoord")
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "nieuwebeheerder", "password": "lang-genoeg-wachtwoord"},
    )
    assert response["Location"] == "/admin/tweestapsverificatie/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/admin/login/")["Location"] == "/admin/tweestapsverificatie/"
    setup = client.get("/admin/tweestapsverificatie/").content.decode()
    assert "<svg" in setup  # the QR code
    secret = re.search(r'id="secret">([A-Z2-7 ]+)<', setup)
    assert secret is not None
    device = TOTPDevice.objects.get(user__username="nieuwebeheerder", confirmed=False)
    assert secret.group(1).replace(" ", "") == b32encode(device.bin_key).decode()
    wrong = client.post("/admin/tweestapsverificatie/", {"otp_token": "000000"})
    assert "Deze code klopt niet" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the app's next code, without waiting for the throttle
    device.save()
    done = client.post("/admin/tweestapsverificatie/", {"otp_token": totp_code(device)})
    assert done["Location"] == "/admin/"
    assert "Configuratie" in client.get("/admin/").content.decode()
    # once set up, the page cannot add another device
    assert client.get("/admin/tweestapsverificatie/")["Location"] == "/admin/"


def test_a_library_admin_and_counter_staff_need_no_code(client: Client, demo: None) -> None:
    oost = Library.objects.get(code="oost")
    User.objects.create_user(
        "beheer-oost", password="lang-genoeg-wachtwoord", library=oost, is_staff=True
    )
    data = {"username": "beheer-oost", "password": "lang-genoeg-wachtwoord"}
    assert client.post("/admin/login/?next=/admin/", data)["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    counter = Client().post("/balie/inloggen/", {"username": "balie", "password": "demo-balie"})
    assert counter.status_code == 302


def test_the_admin_login_slows_down_a_guesser(client: Client, demo: None) -> None:
    # Before: 30 wrong passwords in 6 seconds, then the right one worked.
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(30):
            client.post("/admin/login/", {"username": "beheer", "password": "fout"})
        device = TOTPDevice.objects.get(user__username="beheer")
        data = {"username": "beheer", "password": "demo-balie", "otp_token": totp_code(device)}
        page = client.post("/admin/login/?next=/admin/", data)
        assert page.status_code == 200
        assert "Te veel mislukte pogingen. Wacht" in page.content.decode()
    # the counter shares the limit: alternating forms gains nothing
    with time_machine.travel(start, tick=False):
        counter = client.post("/balie/inloggen/", {"username": "beheer", "password": "demo-balie"})
        assert "Te veel mislukte pogingen. Wacht" in counter.content.decode()


def test_a_library_admin_sees_only_their_own_library(client: Client, demo: None) -> None:
    oost = Library.objects.get(code="oost")
    admin_oost = User.objects.create_user(
        "beheer-oost", password="lang-genoeg-wachtwoord", library=oost, is_staff=True
    )
    admin_oost.user_permissions.set(
        Permission.objects.filter(codename__in=["view_subscriptiontype", "change_subscriptiontype"])
    )
    client.force_login(admin_oost)
    listing = client.get("/admin/libraries/subscriptiontype/").content.decode()
    bind_type = SubscriptionType.objects.get(library__code="bind", code="0141")
    oost_type = SubscriptionType.objects.get(library=oost, code="0141")
    assert f"/admin/libraries/subscriptiontype/{oost_type.pk}/change/" in listing
    assert f"/admin/libraries/subscriptiontype/{bind_type.pk}/change/" not in listing
    assert client.get(f"/admin/libraries/subscriptiontype/{bind_type.pk}/change/").status_code in {
        302,
        404,
    }
