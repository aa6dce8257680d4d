"""Staff login at the counter: who gets in, the rate limits, logout, and the audit rows."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from bieb.audit.models import AuditEvent
from bieb.core.logins import PAIR
from bieb.staff.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/balie/inloggen/"


def test_anonymous_staff_are_sent_to_the_login_page(client: Client, demo: None) -> None:
    response = client.get("/balie/klanten/")
    assert response.status_code == 302
    assert response["Location"] == "/balie/inloggen/?next=/balie/klanten/"
    page = client.get(response["Location"]).content.decode()
    assert ">Gebruikersnaam<" in page and ">Wachtwoord<" in page
    assert 'id="id_username"' in page and "autofocus" in page


def test_the_site_root_leads_to_the_counter(client: Client) -> None:
    assert client.get("/")["Location"] == "/balie/"


def test_login_shows_library_and_branch_and_writes_an_audit_row(
    client: Client, balie: User
) -> None:
    response = client.post(
        LOGIN,
        {"username": "balie", "password": settings.BIEB_DEMO_PASSWORD, "next": "/balie/klanten/"},
    )
    assert response.status_code == 302 and response["Location"] == "/balie/klanten/"
    page = client.get("/balie/klanten/").content.decode()
    assert "Bibliotheken Bind" in page and "vestiging 5280 Bind Centrale" in page
    audit = AuditEvent.objects.get(action="counter.login")
    assert audit.actor == balie and audit.data == {"branch": "5280"}


def test_next_outside_the_counter_is_ignored(client: Client, balie: User) -> None:
    response = client.post(
        LOGIN,
        {
            "username": "balie",
            "password": settings.BIEB_DEMO_PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/balie/klanten/"


def test_a_wrong_password_keeps_the_username_and_says_so_in_dutch(
    client: Client, balie: User
) -> None:
    response = client.post(LOGIN, {"username": "balie", "password": "fout"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Gebruikersnaam of wachtwoord klopt niet." in page
    assert 'value="balie"' in page
    assert "_auth_user_id" not in client.session


def test_too_many_failures_make_that_address_wait_not_the_colleague_elsewhere(
    client: Client, balie: User
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(PAIR.free):
            client.post(LOGIN, {"username": "balie", "password": "fout"})
        response = client.post(
            LOGIN, {"username": "balie", "password": settings.BIEB_DEMO_PASSWORD}
        )
        assert response.status_code == 400
        assert "Te veel mislukte pogingen. Wacht 2 seconden" in response.content.decode()
        assert "_auth_user_id" not in client.session
        # the same account from another counter PC is not affected
        other = Client(REMOTE_ADDR="10.0.0.2")
        ok = other.post(LOGIN, {"username": "balie", "password": settings.BIEB_DEMO_PASSWORD})
        assert ok.status_code == 302
        clock.shift(dt.timedelta(seconds=2))
        ok = client.post(LOGIN, {"username": "balie", "password": settings.BIEB_DEMO_PASSWORD})
        assert ok.status_code == 302


def test_many_failures_from_one_address_do_not_lock_out_that_address(
    client: Client, balie: User
) -> None:
    # Before: twenty failures from one library's address locked out all its counter PCs.
    for number in range(40):
        client.post(LOGIN, {"username": f"gok{number}", "password": "fout"})
    response = client.post(LOGIN, {"username": "balie", "password": settings.BIEB_DEMO_PASSWORD})
    assert response.status_code == 302


def test_a_success_starts_the_count_again(client: Client, balie: User) -> None:
    for _ in range(PAIR.free - 1):
        client.post(LOGIN, {"username": "balie", "password": "fout"})
    assert client.post(LOGIN, {"username": "balie", "password": settings.BIEB_DEMO_PASSWORD})[
        "Location"
    ]
    client.post("/balie/uitloggen/")
    for _ in range(PAIR.free - 1):
        client.post(LOGIN, {"username": "balie", "password": "fout"})
    response = client.post(LOGIN, {"username": "balie", "password": settings.BIEB_DEMO_PASSWORD})
    assert response.status_code == 302


def test_staff_without_a_library_cannot_use_the_counter(client: Client, demo: None) -> None:
    response = client.post(LOGIN, {"username": "beheer", "password": settings.BIEB_DEMO_PASSWORD})
    assert response.status_code == 400
    assert "hoort niet bij een bibliotheek" in response.content.decode()
    assert "_auth_user_id" not in client.session

    client.force_login(User.objects.get(username="beheer"))  # e.g. logged in at /admin/
    response = client.get("/balie/klanten/")
    assert response["Location"].startswith("/balie/inloggen/")
    notice = client.get(response["Location"]).content.decode()
    assert "hoort niet bij een bibliotheek" in notice


def test_an_inactive_staff_member_is_refused(client: Client, balie: User) -> None:
    balie.is_active = False
    balie.save()
    response = client.post(LOGIN, {"username": "balie", "password": settings.BIEB_DEMO_PASSWORD})
    assert response.status_code == 400


def test_logout_is_a_post_and_writes_an_audit_row(client: Client, balie: User) -> None:
    client.force_login(balie)
    assert client.get("/balie/uitloggen/")["Location"] == "/balie/klanten/"
    assert "_auth_user_id" in client.session
    response = client.post("/balie/uitloggen/")
    assert response["Location"] == "/balie/inloggen/"
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="counter.logout", actor=balie).count() == 1
