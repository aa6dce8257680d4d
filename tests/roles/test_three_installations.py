"""One KB and two libraries (Bind and Oost), each an installation of its own: `bieb serve` in a
process of its own on a loopback port, with its own database (an SQLite file in a temporary
directory) and its own SECRET_KEY, set up as README.md ("Rollen") says: the KB first, with a
client of its API per library (`bieb kb_api_client ... --secret-env`), the shared secrets of the
sign-up's and Mijn bibliotheek's OpenID Connect clients, then each library with `bieb demo
--library <code>`. (Settings: tests/roles/installation_settings.py, the test settings with the
real task queue, so static files come from the apps and no `collectstatic` is needed.) Their
mail goes to a real SMTP server (aiosmtpd). Staff and members are HTTP clients that post the
pages' own forms, as a browser would.

The three servers start once, for one test that runs the three scenarios in turn, each with
members of its own: one test, so that pytest-xdist cannot hand the scenarios to two workers
that would each start three servers (its `xdist_group` does not group under pytest 9.2). The
KB stops in the last scenario and is started again.
"""

import html
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.counter.conftest import hidden, new_customer_form, walk_to_costs
from tests.oidc_live import csrf
from tests.processes import BiebProcess, bieb, serve, wait_until
from tests.smtp import SmtpServer, free_port

STAFF_PASSWORD = "demo-balie"  # BIEB_DEMO_PASSWORD's default
PASSWORD = "Leeslamp-Duinpan-42"
NEW = "/balie/klanten/nieuw/"
SENT = "Als dit inlogaccount bestaat, is er een code naar het e-mailadres van het account gestuurd"
TIMEOUT = 30.0


@dataclass
class Installation:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: BiebProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return Path(self.env["BIEB_VAR_DIR"]) / "bieb.sqlite3"

    def bieb(self, *args: str) -> str:
        return bieb(*args, env=self.env)

    def start(self) -> None:
        self.process = serve("all", env=self.env, log=self.log, port=self.port)

        def answers() -> bool:
            try:
                return requests.get(f"{self.url}/health/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(f"{self.name} answers", answers, timeout=60, why=self.output)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Read this installation's own database (what only it knows)."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10) as db:
            return list(db.execute(sql, params))


@dataclass
class Three:
    kb: Installation
    bind: Installation
    oost: Installation
    smtp: SmtpServer

    def why(self) -> str:
        return "\n".join(
            f"--- {i.name}\n{i.output()[-4000:]}" for i in (self.kb, self.bind, self.oost)
        )

    def mails_to(self, address: str) -> list[Any]:
        return [
            m
            for m, to in zip(self.smtp.received, self.smtp.recipients, strict=True)
            if address in to
        ]

    def mail(self, address: str, subject: str) -> str:
        """The text of the (first) mail to `address` whose subject has `subject`, once it came."""
        found: list[str] = []

        def arrived() -> bool:
            for message in self.mails_to(address):
                if subject in str(message["Subject"]):
                    found.append(message.get_body(preferencelist=("plain",)).get_content())
                    return True
            return False

        wait_until(f"a mail '{subject}' to {address}", arrived, timeout=TIMEOUT, why=self.why)
        return found[0]


def _env(tmp: Path, name: str, port: int, smtp_port: int, shared: dict[str, str]) -> dict[str, str]:
    var = tmp / name
    var.mkdir()
    return {
        **shared,
        "BIEB_DEMO": "1",
        "DJANGO_SETTINGS_MODULE": "tests.roles.installation_settings",
        "SECRET_KEY": f"three-{name}-{uuid.uuid4().hex}",
        "BIEB_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'bieb.sqlite3'}",
        "PORT": str(port),
        "BIEB_BASE_URL": f"http://127.0.0.1:{port}",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        # Nothing of the environment the tests run in (a PostgreSQL pass, a Redis test).
        "REDIS_URL": "",
        "BIEB_KB_URL": "",
        "BIEB_LIBRARY_URLS": "",
        "BIEB_KB_CLIENT_ID": "",
        "BIEB_KB_CLIENT_SECRET": "",
    }


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Three]:
    tmp = tmp_path_factory.mktemp("three")
    smtp = SmtpServer()
    smtp.start()
    secrets = {
        "BIEB_BIND_SECRET": uuid.uuid4().hex,
        "BIEB_OOST_SECRET": uuid.uuid4().hex,
        "BIEB_WEBSITE_CLIENT_SECRET": uuid.uuid4().hex,
        "BIEB_MIJN_CLIENT_SECRET": uuid.uuid4().hex,
    }
    ports = {name: free_port() for name in ("kb", "bind", "oost")}
    sites = {name: _env(tmp, name, port, smtp.port, secrets) for name, port in ports.items()}
    sites["kb"].update(
        BIEB_ROLE="kb",
        BIEB_LIBRARY_URLS=f"http://127.0.0.1:{ports['bind']},http://127.0.0.1:{ports['oost']}",
    )
    for code in ("bind", "oost"):
        sites[code].update(
            BIEB_ROLE="library",
            BIEB_KB_URL=f"http://127.0.0.1:{ports['kb']}",
            BIEB_KB_CLIENT_ID=f"bieb-{code}",
            BIEB_KB_CLIENT_SECRET=secrets[f"BIEB_{code.upper()}_SECRET"],
        )
    kb, bind, oost = (
        Installation(name, ports[name], sites[name], tmp / f"{name}.log")
        for name in ("kb", "bind", "oost")
    )
    started = time.monotonic()

    def kb_up() -> None:
        kb.bieb("migrate", "--noinput")
        for code in ("bind", "oost"):
            name = f"Bieb {code.capitalize()}"
            secret = f"BIEB_{code.upper()}_SECRET"
            command = ["kb_api_client", f"bieb-{code}", "--name", name, "--library", code]
            kb.bieb(*command, "--secret-env", secret)
        kb.start()

    def libraries_migrate() -> None:
        # Two installations of one role have the same tables after `bieb migrate`: Oost's
        # database starts as a copy of Bind's just migrated one (a CPU-bound minute less).
        bind.bieb("migrate", "--noinput")
        shutil.copyfile(bind.database, oost.database)

    def library_up(site: Installation) -> None:
        site.bieb("demo", "--library", site.name)
        site.start()

    everyone = (kb, bind, oost)
    try:
        with ThreadPoolExecutor(2) as pool:
            kb_ready = pool.submit(kb_up)
            pool.submit(libraries_migrate).result()
            kb_ready.result()  # the KB first: each library publishes its details to it
            for future in [pool.submit(library_up, site) for site in (bind, oost)]:
                future.result()
        print(f"three installations up in {time.monotonic() - started:.1f} s")
        yield Three(kb=kb, bind=bind, oost=oost, smtp=smtp)
    finally:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(Installation.stop, everyone))
        smtp.stop()


class Answer:
    """A requests response as the Django test client's, for the counter's test helpers."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.content = response.content

    def __getitem__(self, header: str) -> str:
        return str(self.response.headers[header])


class Desk:
    """A staff member at a library's counter, in a browser of their own."""

    def __init__(self, site: Installation, username: str) -> None:
        self.site = site
        self.http = requests.Session()
        page = self.http.get(f"{site.url}/balie/inloggen/", timeout=TIMEOUT)
        login = self.http.post(
            page.url,
            data={
                "csrfmiddlewaretoken": csrf(page),
                "username": username,
                "password": STAFF_PASSWORD,
            },
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert login.status_code == 302, login.text
        self.token = csrf(self.get(NEW))  # a new one after the login

    def get(self, path: str) -> requests.Response:
        response = self.http.get(f"{self.site.url}{path}", timeout=TIMEOUT)
        assert response.status_code == 200, (path, response.status_code)
        return response

    def post(self, path: str, data: dict[str, str]) -> Answer:
        return Answer(
            self.http.post(
                f"{self.site.url}{path}",
                data={**data, "csrfmiddlewaretoken": self.token},
                allow_redirects=False,
                timeout=TIMEOUT,
            )
        )

    def save(self, data: dict[str, str]) -> str:
        """OK on the cost build-up; the new customer's number."""
        saved = self.post(NEW, {**data, "action": "save"})
        assert saved.status_code == 302, saved.content.decode()
        found = re.search(r"/balie/klanten/([^/]+)/ingeschreven/", saved["Location"])
        assert found, saved["Location"]
        return found.group(1)

    def register(self, *, surname: str, email: str) -> str:
        """'Nieuwe klant', 'v' for a generated number, 'Nieuw inlogaccount genereren', 0141."""
        data, _ = walk_to_costs(self, new_customer_form(surname=surname, email=email))
        return self.save(data)

    def customer(self, number: str) -> str:
        return self.get(f"/balie/klanten/{number}/").text

    def shows(self, number: str, state: str) -> None:
        """Wait until the customer's page gives the login account's state as `state` (the
        start of it): the counter asks the KB, which answers in its own time."""
        marker = f'id="account-state">{state}'
        wait_until(
            f"{self.site.name} customer {number}: {state}",
            lambda: marker in self.customer(number),
            timeout=TIMEOUT,
            why=lambda: self.customer(number)[-3000:],
        )


def activate(member: requests.Session, mail: str) -> requests.Response:
    """Open the activation mail's link and set the password; where the KB then leads."""
    link = re.search(r"http://\S+/kb/activeren/\S+", mail)
    assert link is not None, mail
    page = member.get(link.group(0), timeout=TIMEOUT)
    data = {"csrfmiddlewaretoken": csrf(page), "password1": PASSWORD, "password2": PASSWORD}
    data.update(hidden_inputs(page.text))
    done = member.post(page.url, data=data, timeout=TIMEOUT)
    assert done.status_code == 200, done.text
    return done


def hidden_inputs(page: str) -> dict[str, str]:
    found = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        kind = re.search(r'\btype="([^"]*)"', tag)
        name = re.search(r'\bname="([^"]*)"', tag)
        value = re.search(r'\bvalue="([^"]*)"', tag)
        if kind and kind.group(1) == "hidden" and name:
            found[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return found


def memberships_online(three: Three, member: requests.Session) -> Callable[[], str]:
    """The Online Bibliotheek's list of the member's memberships, as they see it now."""

    def listed() -> str:
        page = member.get(f"{three.kb.url}/online/", timeout=TIMEOUT).text
        assert "Uitloggen" in page, page[-2000:]  # signed in
        if "Je abonnementen" not in page:
            return ""
        return page.split("Je abonnementen", 1)[1].split('<nav aria-label="Je accounts">')[0]

    return listed


def test_one_kb_and_two_libraries_as_installations_of_their_own(three: Three) -> None:
    moving_case(three)
    online_sign_up_at_oost(three)
    kb_stopped_during_counter_registrations(three)


def moving_case(three: Three) -> None:
    """The moving case of the work instruction: registered at the Bind counter, activated,
    moved to Oost with "Bestaand inlogaccount gebruiken", both memberships at the Online
    Bibliotheek, "Vergeet inlogaccount" at Bind leaves Oost's link."""
    email = "verhuizer@example.nl"
    bind_desk = Desk(three.bind, "balie")
    number = bind_desk.register(surname="Verhuizer", email=email)
    bind_desk.shows(number, "wacht op activering tot ")
    # the KB made the account (username = the customer number) and mailed the member itself
    assert three.kb.rows("select username from kb_loginaccount where email = ?", email) == [
        (number,)
    ]

    member = requests.Session()
    text = three.mail(email, "Activeer je inlogaccount")
    assert f"Je gebruikersnaam is: {number}" in text
    online = activate(member, text)  # signed in by the activation, on to the Online Bibliotheek
    assert online.url == f"{three.kb.url}/online/", online.url
    bind_desk.shows(number, "actief<")

    # Oost: "Bestaand inlogaccount gebruiken", with the code the KB mails to the account
    oost_desk = Desk(three.oost, "balie-oost")
    form = new_customer_form(surname="Verhuizer", email=email, reached="2")
    oost_desk.post(NEW, {**form, "choose_account": "bestaand"})
    sent = oost_desk.post(NEW, {**form, "account": "bestaand", "existing_username": number})
    assert SENT in sent.content.decode()
    assert hidden(sent, "code_sent_to") == number
    mail = three.mail(email, "Je code om je inlogaccount te koppelen aan Bibliotheek Oost")
    code = re.search(r"\b(\d{3} ?\d{3})\b", mail)
    assert code is not None, mail
    filled = {**form, "account": "bestaand", "existing_username": number, "code_sent_to": number}
    data, _ = walk_to_costs(oost_desk, {**filled, "link_code": code.group(1).replace(" ", "")})
    oost_number = oost_desk.save(data)
    oost_desk.shows(oost_number, "actief<")
    assert number in oost_desk.customer(oost_number)  # the account's username, from the KB
    three.mail(email, "Bibliotheek Oost heeft je inlogaccount gekoppeld")  # the holder is told

    # /online/ at the KB: both memberships, each in its library's name
    listed = memberships_online(three, member)
    wait_until(
        "both memberships at the Online Bibliotheek",
        lambda: "Bibliotheken Bind" in listed() and "Bibliotheek Oost" in listed(),
        timeout=TIMEOUT,
        why=listed,
    )

    # "Vergeet inlogaccount" at Bind unlinks Bind's membership only
    page = bind_desk.customer(number)
    once = re.search(r'name="once" value="([^"]+)"', page)
    assert once is not None
    forgot = bind_desk.post(
        f"/balie/klanten/{number}/inlogaccount/vergeten/", {"once": once.group(1)}
    )
    assert forgot.status_code == 302, forgot.content.decode()
    wait_until(
        "Bind's membership gone from the Online Bibliotheek",
        lambda: "Bibliotheken Bind" not in listed(),
        timeout=TIMEOUT,
        why=listed,
    )
    assert "Bibliotheek Oost" in listed()
    assert "Nieuw inlogaccount genereren" in bind_desk.customer(number)
    oost_desk.shows(oost_number, "actief<")
    assert number in oost_desk.customer(oost_number)
    assert three.kb.rows(
        "select m.library_code from kb_linkedmembership m join kb_loginaccount a "
        "on a.id = m.account_id where a.username = ?",
        number,
    ) == [("oost",)]


def online_sign_up_at_oost(three: Three) -> None:
    """The sign-up at a library installation: a new account at the KB, its activation, the
    OpenID Connect sign-in that tells Oost the account, the payment; then Oost registers the
    member and has the KB link the membership with the sign-in's ID token as consent."""
    member = requests.Session()  # one browser, for the library and the KB alike
    oost = three.oost.url
    page = member.get(f"{oost}/word-lid/oost/abonnement/", timeout=TIMEOUT)
    account = member.post(
        page.url, data={"csrfmiddlewaretoken": csrf(page), "abonnement": "0141"}, timeout=TIMEOUT
    )
    assert account.url == f"{oost}/word-lid/oost/inlogaccount/", account.url
    signup = re.search(r'href="([^"]*/kb/aanmelden/\?next=[^"]+)"', account.text)
    assert signup is not None, account.text
    form = member.get(html.unescape(signup.group(1)), timeout=TIMEOUT)
    data = {
        **hidden_inputs(form.text),
        "csrfmiddlewaretoken": csrf(form),
        "username": "oost.lezer",
        "email": "oost.lezer@example.nl",
    }
    asked = member.post(form.url, data=data, timeout=TIMEOUT)
    assert "Controleer je mail" in asked.text, asked.text[-2000:]

    details = activate(member, three.mail("oost.lezer@example.nl", "Activeer je inlogaccount"))
    # back at Oost, which asked the KB (OpenID Connect) whose account this is
    assert details.url == f"{oost}/word-lid/oost/gegevens/", details.url
    assert 'value="oost.lezer@example.nl"' in details.text
    values = {
        "salutation": "mw",
        "initials": "T.",
        "surname": "Oostlezer",
        "birth_date": "04-01-1991",
        "country": "NL",
        "postcode": "7811 AB",
        "house_number": "3",
        "email": "oost.lezer@example.nl",
    }
    check = member.post(
        details.url, data={"csrfmiddlewaretoken": csrf(details), **values}, timeout=TIMEOUT
    )
    assert check.url == f"{oost}/word-lid/oost/betalen/", check.text[-2000:]
    checkout = member.post(check.url, data={"csrfmiddlewaretoken": csrf(check)}, timeout=TIMEOUT)
    assert "/betalen/demo/" in checkout.url, checkout.text[-2000:]
    welcome = member.post(
        checkout.url,
        data={"csrfmiddlewaretoken": csrf(checkout), "uitkomst": "betaald"},
        timeout=TIMEOUT,
    )
    assert "Welkom bij Bibliotheek Oost" in welcome.text, welcome.text[-2000:]

    # Oost registered the member and had the KB link the membership to their own account, with
    # the sign-in's ID token as consent; the library keeps that token no longer
    def link_call() -> list[tuple[Any, ...]]:
        return three.oost.rows(
            "select state, payload from kboutbox_kbcall where kind = 'account_link_own'"
        )

    wait_until(
        "the link made",
        lambda: [state for state, _ in link_call()] == ["done"],
        timeout=TIMEOUT,
        why=lambda: f"{link_call()}\n{three.why()}",
    )
    assert "id_token" not in link_call()[0][1]
    assert three.oost.rows("select id_token from signup_signup") == [("",)]
    # the Online Bibliotheek gives e-books and audiobooks on it (signed in there without a
    # password: the KB knows the member already)
    online = member.get(f"{three.kb.url}/online/inloggen/", timeout=TIMEOUT)
    assert online.url == f"{three.kb.url}/online/", online.url
    listed = memberships_online(three, member)
    wait_until(
        "the Oost membership at the Online Bibliotheek",
        lambda: "Bibliotheek Oost" in listed(),
        timeout=TIMEOUT,
        why=lambda: three.why() + "\n" + listed(),
    )
    page = member.get(f"{three.kb.url}/online/", timeout=TIMEOUT).text
    assert "Je hebt toegang tot e-books en luisterboeken" in page


def kb_stopped_during_counter_registrations(three: Three) -> None:
    """Bind registers while the KB is away; once the KB is back and the outbox's retry has
    run, every account is there once and every member has one activation mail."""
    members = {f"storing.{n.lower()}@example.nl": f"Storing{n}" for n in ("Een", "Twee", "Drie")}
    three.kb.stop()
    try:
        desk = Desk(three.bind, "balie")
        numbers = {
            email: desk.register(surname=surname, email=email) for email, surname in members.items()
        }
        for number in numbers.values():
            desk.shows(number, "KB niet bereikbaar, wordt opnieuw geprobeerd")
    finally:
        three.kb.start()

    # the operator has the waiting calls made now (`bieb kboutbox` lists them; else the
    # periodic job makes them within minutes, or has made some since the KB came back)
    waiting = three.bind.rows(
        "select id from kboutbox_kbcall where kind = 'account_create' and state = 'pending'"
    )
    three.bind.bieb("kboutbox", *(f"--retry={pk}" for (pk,) in waiting), "--run")

    for email, number in numbers.items():
        desk.shows(number, "wacht op activering tot ")
        text = three.mail(email, "Activeer je inlogaccount")
        assert f"Je gebruikersnaam is: {number}" in text
        assert three.kb.rows("select username from kb_loginaccount where email = ?", email) == [
            (number,)
        ]
    # all of the KB's mail has gone out: one activation mail each, however often it was tried
    wait_until(
        "the KB's outbox sent",
        lambda: (
            three.kb.rows("select count(*) from mail_outboxmessage where sent_at is null") == [(0,)]
        ),
        timeout=TIMEOUT,
        why=three.why,
    )
    for email in members:
        assert len(three.mails_to(email)) == 1, [str(m["Subject"]) for m in three.mails_to(email)]
        queued = 'select count(*) from mail_outboxmessage where "to" = ? and kind = ?'
        assert three.kb.rows(queued, email, "kb.activation") == [(1,)]
