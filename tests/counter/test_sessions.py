"""Staff sessions on shared counter PCs: a working day at most, and an end after idle time;
a form sent after the end is kept and shown again after the new login. Members' sessions (the
login service) follow their own, longer rule."""

import datetime as dt
import re
from urllib.parse import unquote

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from bieb.core.middleware import STORED_GRACE
from bieb.kb.models import AccountState, LoginAccount
from bieb.staff.models import User
from tests.counter.conftest import hidden, new_customer_form
from tests.otp import admin_login

pytestmark = pytest.mark.django_db

IDLE = dt.timedelta(minutes=settings.BIEB_STAFF_IDLE_MINUTES)
DAY = dt.timedelta(hours=settings.BIEB_STAFF_SESSION_HOURS)


def staff_login(client: Client, username: str = "balie", next_url: str = "") -> object:
    data = {"username": username, "password": settings.BIEB_DEMO_PASSWORD, "next": next_url}
    response = client.post("/balie/inloggen/", data)
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def test_a_counter_session_ends_after_the_idle_time(demo: None) -> None:
    client = Client()
    staff_login(client)
    start = timezone.now()
    with time_machine.travel(start + IDLE - dt.timedelta(minutes=1), tick=False):
        assert client.get("/balie/klanten/").status_code == 200  # still there, and seen now
    with time_machine.travel(start + 2 * IDLE - dt.timedelta(minutes=2), tick=False):
        assert client.get("/balie/klanten/").status_code == 200  # idle time counts from then
    with time_machine.travel(start + 3 * IDLE, tick=False):
        response = client.get("/balie/klanten/")
        assert response.status_code == 302 and response["Location"].startswith("/balie/inloggen/")
        page = client.get(response["Location"]).content.decode()
        assert "De sessie is verlopen. Log opnieuw in." in page


def test_a_counter_session_lasts_a_working_day_at_most(demo: None) -> None:
    client = Client()
    staff_login(client)
    start = timezone.now()
    moment = start
    while moment < start + DAY - IDLE:
        moment += IDLE - dt.timedelta(minutes=5)  # busy all day
        with time_machine.travel(moment, tick=False):
            assert client.get("/balie/klanten/").status_code == 200
    with time_machine.travel(start + DAY + dt.timedelta(minutes=1), tick=False):
        assert client.get("/balie/klanten/").status_code == 302


def test_the_admin_follows_the_same_rule(demo: None) -> None:
    client = Client()
    admin_login(client, User.objects.get(username="beheer"), settings.BIEB_DEMO_PASSWORD)
    assert client.get("/admin/").status_code == 200
    with time_machine.travel(timezone.now() + IDLE + dt.timedelta(minutes=1), tick=False):
        assert client.get("/admin/").status_code == 302


def test_the_stored_session_expires_with_the_idle_time(demo: None) -> None:
    """A closed browser's staff session does not live on in the database for two weeks."""
    client = Client()
    staff_login(client)
    client.get("/balie/klanten/")
    row = Session.objects.get(session_key=client.session.session_key)
    stored = IDLE + dt.timedelta(seconds=STORED_GRACE + 5)
    assert row.expire_date - timezone.now() <= stored
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] <= stored.total_seconds()


def test_a_members_login_is_not_ended_by_the_staff_rule(db: None) -> None:
    account = LoginAccount(
        username="lid", email="lid@example.nl", origin="online", state=AccountState.ACTIVE
    )
    account.set_password("Leeslamp-Duinpan-42")
    account.save()
    client = Client()
    client.post("/kb/inloggen/", {"username": "lid", "password": "Leeslamp-Duinpan-42"})
    assert "Uitloggen" in client.get("/kb/").content.decode()
    row = Session.objects.get(session_key=client.session.session_key)
    assert row.expire_date - timezone.now() > dt.timedelta(days=6)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=20), tick=False):
        assert "Uitloggen" in client.get("/kb/").content.decode()


def _typed() -> dict[str, str]:
    return new_customer_form(surname="Halverwege", email="half@example.nl", postcode="")


def test_a_form_sent_after_the_session_ended_is_shown_again_after_login(demo: None) -> None:
    client = Client()
    staff_login(client)
    page = client.get("/balie/klanten/nieuw/")
    form = {
        **_typed(),
        "registration_key": hidden(page, "registration_key"),
        "reached": "1",
        "action": "next",
    }
    Session.objects.all().delete()  # the session ended (idle, or the day is over)

    sent = client.post("/balie/klanten/nieuw/", form)

    assert sent.status_code == 302
    login_url = sent["Location"]
    assert login_url.startswith("/balie/inloggen/?next=")
    assert "Halverwege" not in login_url and "half%40example.nl" not in login_url
    login_page = client.get(login_url).content.decode()
    assert "De sessie is verlopen. Log opnieuw in; wat er was ingevuld" in login_page
    next_url = re.search(r'name="next" value="([^"]+)"', login_page).group(1)  # type: ignore[union-attr]
    back = staff_login(client, next_url=next_url)["Location"]  # type: ignore[index]
    assert back.startswith("/balie/klanten/nieuw/?herstel=")

    shown = client.get(back).content.decode()
    assert "Wat er was ingevuld, staat er weer" in shown
    assert 'value="Halverwege"' in shown and 'value="half@example.nl"' in shown
    assert hidden_value(shown, "registration_key") == form["registration_key"]
    assert "veld is verplicht" not in shown.lower()  # empty fields are to do, not wrong
    # Once: the same address again is an empty form.
    assert 'value="Halverwege"' not in client.get(back).content.decode()


def hidden_value(page: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert match
    return match.group(1)


def test_no_password_is_kept(demo: None) -> None:
    client = Client()
    client.post("/balie/klanten/nieuw/", {"surname": "X", "password": "geheim-geheim"})
    data = client.session.load()
    kept = [value for key, value in data.items() if key.startswith("counter:kept:")]
    assert kept and kept[0]["data"] == {"surname": ["X"]}


def test_a_form_whose_token_a_new_login_replaced_is_kept_not_refused(demo: None) -> None:
    """Logged in again in another tab: the old tab's token no longer matches. The form comes
    back filled in instead of a CSRF error page."""
    client = Client(enforce_csrf_checks=True)
    login_page = client.get("/balie/inloggen/")
    token = hidden(login_page, "csrfmiddlewaretoken")
    client.post(
        "/balie/inloggen/",
        {
            "username": "balie",
            "password": settings.BIEB_DEMO_PASSWORD,
            "csrfmiddlewaretoken": token,
        },
    )
    page = client.get("/balie/klanten/nieuw/")
    old_token = hidden(page, "csrfmiddlewaretoken")
    form = {**_typed(), "registration_key": hidden(page, "registration_key"), "reached": "1"}
    # Another tab: log in again (the token changes).
    other = client.get("/balie/inloggen/?next=/balie/klanten/")
    assert other.status_code == 302  # already logged in
    client.logout()
    fresh = hidden(client.get("/balie/inloggen/"), "csrfmiddlewaretoken")
    client.post(
        "/balie/inloggen/",
        {
            "username": "balie",
            "password": settings.BIEB_DEMO_PASSWORD,
            "csrfmiddlewaretoken": fresh,
        },
    )

    sent = client.post(
        "/balie/klanten/nieuw/",
        {**form, "csrfmiddlewaretoken": old_token},
        HTTP_ORIGIN="http://testserver",
    )

    assert sent.status_code == 302, sent.content.decode()[:300]
    assert sent["Location"].startswith("/balie/klanten/nieuw/?herstel=")
    shown = client.get(sent["Location"]).content.decode()
    assert 'value="Halverwege"' in shown and "Wat er was ingevuld, staat er weer" in shown


def test_a_foreign_form_is_refused_and_not_kept(demo: None) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="balie"))
    sent = client.post("/balie/klanten/nieuw/", _typed(), HTTP_ORIGIN="https://aanvaller.example")
    assert sent.status_code == 403
    assert "Het formulier is verlopen" in sent.content.decode()
    assert not [k for k in client.session.load() if k.startswith("counter:kept:")]


def test_a_desk_payment_typed_before_the_session_ended_is_back_in_its_form(
    demo: None, tester: object
) -> None:
    client = Client()
    staff_login(client)
    page_url = f"/balie/klanten/{tester.number}/"  # type: ignore[attr-defined]
    page = client.get(page_url)
    Session.objects.all().delete()

    sent = client.post(
        f"{page_url}betaling/",
        {"amount": "12,34", "method": "pin", "once": hidden(page, "once")},
        HTTP_REFERER=f"http://testserver{page_url}",
    )
    next_url = sent["Location"].split("next=", 1)[1]
    back = staff_login(client, next_url=unquote(next_url))["Location"]  # type: ignore[index]
    assert back.startswith(f"{page_url}?herstel=")
    shown = client.get(back).content.decode()
    assert 'value="12,34"' in shown and "Wat er was ingevuld, staat er weer" in shown
