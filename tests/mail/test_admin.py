"""The outbox in /admin/: read-only, and only for national operators (superusers)."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from bieb.mail.services import mail_queue
from bieb.staff.models import User
from tests.otp import admin_login

pytestmark = pytest.mark.django_db


def test_a_superuser_can_read_the_outbox_but_not_change_it(client: Client) -> None:
    message = mail_queue(to="e.tester@example.nl", subject="Activeer uw inlogaccount", text="Hoi")
    operator = User.objects.create_superuser("operator", password="lang-genoeg-123")
    admin_login(client, operator, "lang-genoeg-123")

    assert "Uitgaande berichten" in client.get("/admin/").content.decode()
    listing = client.get("/admin/mail/outboxmessage/")
    assert listing.status_code == 200
    assert "Activeer uw inlogaccount" in listing.content.decode()
    detail = client.get(f"/admin/mail/outboxmessage/{message.pk}/change/")
    assert detail.status_code == 200
    assert 'name="subject"' not in detail.content.decode()  # shown, not editable
    assert client.get("/admin/mail/outboxmessage/add/").status_code == 403
    assert client.get(f"/admin/mail/outboxmessage/{message.pk}/delete/").status_code == 403


def test_staff_of_a_library_do_not_see_the_outbox(client: Client) -> None:
    staff = User.objects.create_user("medewerker", password="lang-genoeg-123", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="mail"))
    client.force_login(staff)

    assert "Uitgaande berichten" not in client.get("/admin/").content.decode()
    assert client.get("/admin/mail/outboxmessage/").status_code == 403
