"""The configuration in /admin/, in Dutch, and scoped to a library for a library's own admin."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from bieb.libraries.models import Library, SubscriptionType
from bieb.staff.models import User

pytestmark = pytest.mark.django_db


def test_the_admin_shows_the_configuration_in_dutch(client: Client, demo: None) -> None:
    client.force_login(User.objects.get(username="beheer"))
    index = client.get("/admin/").content.decode()
    assert "Bibliotheken en abonnementen" in index
    assert "Abonnementstypen" in index
    assert "Tariefcodes" in index
    assert "Afmelden" in index and "Wachtwoord wijzigen" in index  # Django's own, in Dutch
    listing = client.get("/admin/libraries/subscriptiontype/").content.decode()
    assert "Digital only" in listing and "digitale rechten" in listing.lower()


def test_the_demo_admin_can_log_in_with_the_demo_password(client: Client, demo: None) -> None:
    page = client.post(
        "/admin/login/?next=/admin/", {"username": "beheer", "password": "demo-balie"}, follow=True
    )
    assert "Configuratie" in page.content.decode()


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
