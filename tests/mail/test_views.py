"""The demo mailbox at /dev/mail/: the kept mail, readable without SMTP, in demo mode only."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from html.parser import HTMLParser

import pytest
from django.test import Client, override_settings

from bieb.mail.models import OutboxMessage, OutboxStatus
from bieb.mail.services import mail_queue

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], object]]]]

pytestmark = pytest.mark.django_db

ACTIVATION_HTML = (
    "<!DOCTYPE html><html><head><title>Activeren</title></head><body>"
    '<p><a href="http://127.0.0.1:8000/kb/activeren/abc/">Wachtwoord kiezen</a></p>'
    "<script>alert(1)</script></body></html>"
)


class IframeFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.iframes: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.iframes.append(dict(attrs))


def iframes(page: str) -> list[dict[str, str | None]]:
    finder = IframeFinder()
    finder.feed(page)
    return finder.iframes


@pytest.fixture
def kept(django_capture_on_commit_callbacks: CaptureOnCommit) -> list[OutboxMessage]:
    """Two activation mails, kept in the outbox because no SMTP is configured."""
    with (
        override_settings(BIEB_SMTP_CONFIGURED=False, DEMO=True),
        django_capture_on_commit_callbacks(execute=True),
    ):
        first = mail_queue(
            to="eerste@example.nl",
            subject="Welkom bij de Online Bibliotheek",
            text="Welkom!",
            kind="kb.linked",
        )
        second = mail_queue(
            to="e.tester@example.nl",
            subject="Activeer uw inlogaccount: één stap",
            text="Kies een wachtwoord: http://127.0.0.1:8000/kb/activeren/abc/",
            html=ACTIVATION_HTML,
            kind="kb.activation",
        )
    for message in (first, second):
        message.refresh_from_db()
        assert message.status == OutboxStatus.KEPT
    return [first, second]


@override_settings(DEMO=True)
def test_the_demo_mailbox_lists_the_outbox_newest_first(
    client: Client, kept: list[OutboxMessage]
) -> None:
    response = client.get("/dev/mail/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Demo-mailbox" in page
    assert page.index("Activeer uw inlogaccount: één stap") < page.index("Welkom bij de Online")
    assert "e.tester@example.nl" in page and "eerste@example.nl" in page
    assert "bewaard (geen SMTP ingesteld)" in page
    assert f'href="/dev/mail/{kept[1].pk}/"' in page


@override_settings(DEMO=True)
def test_the_demo_mailbox_filters_on_an_address(client: Client, kept: list[OutboxMessage]) -> None:
    page = client.get("/dev/mail/", {"aan": "E.Tester@example.nl"}).content.decode()

    assert "Activeer uw inlogaccount" in page
    assert "Welkom bij de Online" not in page


@override_settings(DEMO=True)
def test_a_message_shows_its_text_and_its_html_in_a_sandbox(
    client: Client, kept: list[OutboxMessage]
) -> None:
    response = client.get(f"/dev/mail/{kept[1].pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Activeer uw inlogaccount: één stap" in page
    # The text, with its link clickable.
    assert 'href="http://127.0.0.1:8000/kb/activeren/abc/"' in page
    [frame] = iframes(page)
    assert frame["sandbox"] == "allow-popups allow-popups-to-escape-sandbox"
    assert frame["src"] == f"/dev/mail/{kept[1].pk}/html/"
    # The mail's markup is not on this page: no script of the mail runs here.
    assert "<script>" not in page

    framed = client.get(frame["src"])
    assert framed.status_code == 200
    assert framed.content.decode() == ACTIVATION_HTML.replace(
        "<head>", '<head><base target="_blank">'
    )
    # Its own policy: the mail's inline style shows, nothing of it runs or reaches a server,
    # and it is sandboxed even when opened on its own.
    policy = framed["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "sandbox allow-popups allow-popups-to-escape-sandbox" in policy
    assert "frame-ancestors 'self'" in policy
    assert framed["X-Frame-Options"] == "SAMEORIGIN"


@override_settings(DEMO=True)
def test_a_text_only_message_has_no_frame(client: Client, kept: list[OutboxMessage]) -> None:
    page = client.get(f"/dev/mail/{kept[0].pk}/").content.decode()
    assert "Welkom!" in page
    assert iframes(page) == []
    assert client.get(f"/dev/mail/{kept[0].pk}/html/").status_code == 404


@override_settings(DEMO=True)
def test_an_unknown_message_is_not_found(client: Client) -> None:
    assert client.get("/dev/mail/999999/").status_code == 404


@override_settings(DEMO=False)
def test_the_demo_mailbox_does_not_exist_outside_demo_mode(
    client: Client, kept: list[OutboxMessage]
) -> None:
    assert client.get("/dev/mail/").status_code == 404
    assert client.get(f"/dev/mail/{kept[1].pk}/").status_code == 404
    assert client.get(f"/dev/mail/{kept[1].pk}/html/").status_code == 404
