"""The guards that exist only outside demo mode, in a real process started outside demo mode.

The test suite itself runs in demo mode (bieb/test_settings.py), and some settings are decided
when the settings module loads, so this starts a process with the production settings on a
throwaway SQLite database and asks it, through Django's test client, for what must not exist
there: the demo payment service's checkout page and webhook, and the demo mailbox; and whether
it holds what only holds outside the demo: OpenID Connect clients redirect over HTTPS only, and
the three relying parties every installation has are registered by `migrate` alone.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
import django

django.setup()
from django.core.management import call_command

call_command("migrate", verbosity=0)
from django.conf import settings
from django.test import Client

from bieb.mail.services import mail_queue
from bieb.payments.models import DemoCheckout
from bieb.payments.providers import PROVIDERS

checkout = DemoCheckout.objects.create(
    id="demo_probe", idempotency_key="probe", amount="42.00", description="probe",
    redirect_url="https://bieb.example.nl/", webhook_url="https://bieb.example.nl/",
)
mail = mail_queue(to="e.tester@example.nl", subject="Welkom", text="Welkom!")
client = Client()
answers = {
    "demo": settings.DEMO,
    "demo_provider_available": PROVIDERS["demo"].is_available(),
    "checkout_page": client.get("/betalen/demo/demo_probe/", secure=True).status_code,
    "checkout_decide": client.post(
        "/betalen/demo/demo_probe/", {"uitkomst": "betaald"}, secure=True
    ).status_code,
    "demo_webhook": client.post(
        "/betalen/webhook/demo/", {"id": "demo_probe"}, secure=True
    ).status_code,
    "mailbox": client.get("/dev/mail/", secure=True).status_code,
    "mailbox_message": client.get(f"/dev/mail/{mail.pk}/", secure=True).status_code,
}
checkout.refresh_from_db()
answers["checkout_status"] = checkout.status

from django.core.exceptions import ValidationError
from oauth2_provider.models import get_application_model


def redirect_uri(uri):
    client = get_application_model()(
        name="probe", client_id="probe", client_secret="s" * 40, algorithm="RS256",
        client_type="confidential", authorization_grant_type="authorization-code",
        redirect_uris=uri,
    )
    try:
        client.full_clean()
    except ValidationError as error:
        return "refused" if "redirect_uris" in error.message_dict else str(error)
    return "accepted"


answers["http_redirect_uri"] = redirect_uri("http://app.example.nl/terug/")

# The relying parties every installation has come with `migrate`, not with the demo: the
# Online Bibliotheek's sign-in reaches the KB's login page rather than an unknown client.
answers["clients"] = {
    client.client_id: client.redirect_uris
    for client in get_application_model().objects.order_by("client_id")
}
authorize = client.get(
    "/kb/authorize/",
    {
        "client_id": "online-bibliotheek",
        "redirect_uri": "https://bieb.example.nl/online/callback/",
        "response_type": "code",
        "scope": "openid",
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
    },
    secure=True,
)
answers["authorize"] = [authorize.status_code, authorize.get("Location", "").split("?")[0]]
answers["https_redirect_uri"] = redirect_uri("https://app.example.nl/terug/")
print(json.dumps(answers))
"""


def test_outside_demo_mode_the_demo_only_pages_do_not_exist_and_redirects_need_https(
    tmp_path: Path,
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"BIEB_DEMO", "DATABASE_URL", "EMAIL_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bieb.settings",
        SECRET_KEY="outside-demo-" + "k" * 40,
        ALLOWED_HOSTS="testserver",
        BIEB_BASE_URL="https://bieb.example.nl",
        DATABASE_URL=f"sqlite:///{tmp_path / 'bieb.sqlite3'}",
        BIEB_VAR_DIR=str(tmp_path / "var"),
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers == {
        "demo": False,
        "demo_provider_available": False,
        "checkout_page": 404,
        "checkout_decide": 404,
        "demo_webhook": 404,
        "mailbox": 404,
        "mailbox_message": 404,
        "checkout_status": "open",
        "http_redirect_uri": "refused",
        "https_redirect_uri": "accepted",
        "clients": {
            "bibliotheek-website": "https://bieb.example.nl/word-lid/inlogaccount/terug/",
            "mijn-bibliotheek": "https://bieb.example.nl/mijn/terug/",
            "online-bibliotheek": "https://bieb.example.nl/online/callback/",
        },
        "authorize": [302, "/kb/inloggen/"],
    }
