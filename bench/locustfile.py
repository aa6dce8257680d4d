"""The users of the national load test (bench/load.py starts Locust with this file).

Locust stands where the TLS-terminating reverse proxy of docs/deployment.md stands: it sends
`Host: <the public name>`, `X-Forwarded-Proto: https` and `X-Forwarded-For: <the member's
address>` to the web processes on loopback (each virtual user keeps to one of them, as a
load balancer with sticky connections would). So the servers run exactly as in production:
secure cookies, CSRF with Origin, per-address rate limits counting each member's own address.
Cookies are kept by hand, as the proxy passes them on: Python's cookie jar would not send a
Secure cookie over the plain loopback hop.

What each user does, and how often, comes from bench/load.py through the environment (one
`fixed_count` per class and one pacing in seconds per class); the figures of the national peak
and their sources are in bench/README.md, section 10.
"""

from __future__ import annotations

import json
import os
import random
import re
import uuid
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

import gevent
from locust import FastHttpUser, constant_pacing, events, task

SETUP: dict[str, Any] = json.loads(os.environ.get("BIEB_LOAD_SETUP", "{}") or "{}")
HOSTS: list[str] = SETUP.get("hosts", ["http://127.0.0.1:8000"])
PUBLIC = SETUP.get("public_host", "bieb.bench.invalid")
ORIGIN = f"https://{PUBLIC}"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DUMP = os.environ.get("BIEB_LOAD_DUMP", "")
HIDDEN = r'<input type="hidden" name="{}" value="([^"]*)"'


def _count(name: str) -> int:
    return int(SETUP.get("counts", {}).get(name, 0))


def _pacing(name: str) -> float:
    return float(SETUP.get("pacing", {}).get(name, 10))


def _stagger(name: str) -> None:
    """Wait a random part of the class's pacing before the first task: members do not all
    arrive in the same second, and a step measures its load, not the stampede of its start."""
    gevent.sleep(random.uniform(0, _pacing(name)))


@events.init_command_line_parser.add_listener
def _no_options(parser: Any) -> None:  # pragma: no cover - Locust's hook
    pass


class Visitor(FastHttpUser):
    """One member's (or desk's) browser behind the proxy: its own address and cookies."""

    abstract = True
    connection_timeout = 10.0
    network_timeout = 30.0
    _serial = 0

    def __init__(self, environment: Any) -> None:
        Visitor._serial += 1
        self.host = HOSTS[Visitor._serial % len(HOSTS)]
        super().__init__(environment)
        self.rng = random.Random()
        self.address = (
            f"10.{self.rng.randrange(256)}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"
        )
        self.cookies: dict[str, str] = {}

    # --- HTTP as the proxy forwards it ---------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        name: str,
        data: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
    ) -> Any:
        all_headers = {
            "Host": PUBLIC,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "User-Agent": "Mozilla/5.0 (Linux; Android 14) bieb-load",
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            body = urlencode(data or {})
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers["Origin"] = ORIGIN
            all_headers["Referer"] = f"{ORIGIN}{path}"
        elif data:
            path = f"{path}?{urlencode(data)}"
        all_headers.update(headers or {})
        with self.client.request(
            method,
            path,
            data=body,
            headers=all_headers,
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            self.client.cookiejar.clear()  # the proxy does not keep cookies; we do, below
            for key, value in response.headers.items():
                if key.lower() == "set-cookie":
                    for cookie, morsel in SimpleCookie(value).items():
                        if morsel["max-age"] == "0" or not morsel.value:
                            self.cookies.pop(cookie, None)
                        else:
                            self.cookies[cookie] = morsel.value
            if response.status_code in expect:
                response.success()
            else:
                response.failure(f"{response.status_code} (expected {expect})")
                if DUMP:  # for debugging a flow: the page that was not expected
                    with open(
                        os.path.join(DUMP, f"{response.status_code}-{uuid.uuid4().hex[:6]}.html"),
                        "w",
                    ) as f:
                        f.write(f"{method} {path}\n{all_headers}\n{body}\n\n{response.text}")
            return response

    def follow(self, response: Any, *, name: str, hops: int = 8) -> Any:
        """Follow redirects within our own site (the proxy's public name)."""
        while response.status_code in (301, 302, 303) and hops:
            location = response.headers.get("Location", "")
            parts = urlsplit(location)
            if parts.netloc and parts.netloc != PUBLIC:
                return response  # a redirect to another site: the client would go there
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            response = self.send("GET", path, name=name, expect=(200, 302, 303))
            hops -= 1
        return response

    def flow_failure(self, name: str, response: Any) -> None:
        """A step of a flow that did not show what a member would see next: counted as a
        failure of its own (the request itself may have been a 200)."""
        self.environment.events.request.fire(
            request_type="FLOW",
            name=name,
            response_time=0,
            response_length=0,
            exception=AssertionError(f"{name} (got {response.status_code})"),
            context={},
        )
        if DUMP:
            with open(os.path.join(DUMP, f"flow-{uuid.uuid4().hex[:6]}.html"), "w") as f:
                f.write(f"{name}\n{response.url}\n\n{self.text(response)}")

    def letters(self, n: int) -> str:
        """A made-up name part (names take letters only)."""
        return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))

    @staticmethod
    def text(response: Any) -> str:
        return response.text or ""

    def csrf(self, response: Any) -> str:
        found = CSRF.search(self.text(response))
        return found.group(1) if found else ""

    def kb_login(self, response: Any, username: str, password: str, *, name: str) -> Any:
        """On the KB's login page (reached by a redirect): sign in, and follow back."""
        page = self.text(response)
        action = re.search(r'<form[^>]*method="post"[^>]*action="([^"]*)"', page)
        path = urlsplit(response.url).path if response.url else "/kb/inloggen/"
        query = urlsplit(response.url).query if response.url else ""
        target = action.group(1).replace("&amp;", "&") if action and action.group(1) else ""
        if not target:
            target = path + (f"?{query}" if query else "")
        data = {
            "csrfmiddlewaretoken": self.csrf(response),
            "username": username,
            "password": password,
        }
        nxt = re.search(r'name="next" value="([^"]*)"', page)
        if nxt:
            data["next"] = nxt.group(1).replace("&amp;", "&")
        posted = self.send(
            "POST", target, name=f"{name}: KB login (POST, Argon2id)", data=data, expect=(302,)
        )
        return self.follow(posted, name=f"{name}: back from the KB")


class Member(Visitor):
    """A member of the Online Bibliotheek on a phone: opens it, is sent to the KB, signs in
    (Argon2id), comes back through the code flow (token exchange and userinfo, in process),
    sees the home page, and half of them log out again (RP-initiated logout)."""

    fixed_count = _count("member")
    wait_time = constant_pacing(_pacing("member"))

    def on_start(self) -> None:
        _stagger("member")

    @task
    def session(self) -> None:
        self.cookies.clear()
        username = f"bench-load-{self.rng.randrange(int(SETUP.get('accounts', 1))):06d}"
        start = self.send("GET", "/online/", name="online: home (not signed in)", expect=(200, 302))
        if start.status_code == 200:  # the home page offers "Inloggen"
            start = self.send("GET", "/online/inloggen/", name="online: inloggen", expect=(302,))
        page = self.follow(start, name="online: to the KB")
        if page.status_code != 200 or "password" not in self.text(page):
            self.flow_failure("online: no KB login page", page)
            return
        home = self.kb_login(page, username, SETUP.get("password", ""), name="online")
        if "Uitloggen" not in self.text(home):
            self.flow_failure("online: not signed in after the KB", home)
            return
        if self.rng.random() < 0.5:
            token = self.csrf(home)
            out = self.send(
                "POST",
                "/online/uitloggen/",
                name="online: uitloggen (POST)",
                data={"csrfmiddlewaretoken": token},
                expect=(302, 303),
            )
            self.follow(out, name="online: uitloggen (KB end session)")


class Platform(FastHttpUser):
    """The e-book platform asking whether a member may borrow (server to server, bearer)."""

    fixed_count = _count("platform")
    wait_time = constant_pacing(_pacing("platform"))
    host = HOSTS[0]

    def on_start(self) -> None:
        self.rng = random.Random()
        self.host = self.rng.choice(HOSTS)
        _stagger("platform")

    @task
    def check(self) -> None:
        username = f"bench-load-{self.rng.randrange(int(SETUP.get('accounts', 1))):06d}"
        with self.client.get(
            f"/online/api/entitlements/{username}/",
            headers={
                "Host": PUBLIC,
                "X-Forwarded-Proto": "https",
                "Authorization": f"Bearer {SETUP.get('entitlements_token', '')}",
            },
            name="platform: entitlements",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or b"true" not in (response.content or b""):
                response.failure(f"{response.status_code}: {response.content[:80]!r}")


class Desk(Visitor):
    """Counter staff: signed in once, then looking customers up as they type (the page asks
    per keystroke, 120 ms after the last), and opening the customer."""

    fixed_count = _count("desk")
    wait_time = constant_pacing(_pacing("desk"))

    def on_start(self) -> None:
        _stagger("desk")
        desk = SETUP["desks"][Visitor._serial % len(SETUP["desks"])]
        self.samples: list[dict[str, str]] = desk["samples"]
        page = self.send("GET", "/balie/inloggen/", name="counter: inloggen")
        data = {
            "csrfmiddlewaretoken": self.csrf(page),
            "username": desk["username"],
            "password": SETUP["staff_password"],
            "next": "",
        }
        self.send(
            "POST", "/balie/inloggen/", name="counter: inloggen (POST)", data=data, expect=(302,)
        )

    @task
    def search(self) -> None:
        customer = self.rng.choice(self.samples)
        query = self.rng.choice(
            [customer["number"][-7:], customer["surname"], customer["postcode"]]
        )
        stop = min(len(query), self.rng.randint(4, 10))
        for n in range(2, stop + 1):
            if n == stop or self.rng.random() < 0.5:
                self.send(
                    "GET",
                    "/balie/klanten/zoeken/",
                    name="counter: search as typed",
                    data={"q": query[:n]},
                )
        self.send("GET", f"/balie/klanten/{customer['number']}/", name="counter: customer page")


class Registrar(Visitor):
    """Counter staff registering a new customer with a login account (flow A), section by
    section as the form is filled in, then Opslaan; the activation mail is queued for the
    worker."""

    fixed_count = _count("registrar")
    wait_time = constant_pacing(_pacing("registrar"))

    def on_start(self) -> None:
        _stagger("registrar")
        page = self.send("GET", "/balie/inloggen/", name="counter: inloggen")
        data = {
            "csrfmiddlewaretoken": self.csrf(page),
            "username": SETUP["registrar"],
            "password": SETUP["staff_password"],
            "next": "",
        }
        self.send(
            "POST", "/balie/inloggen/", name="counter: inloggen (POST)", data=data, expect=(302,)
        )

    @task
    def register(self) -> None:
        url = "/balie/klanten/nieuw/"
        page = self.send("GET", url, name="register: new customer form")
        tag = self.letters(10)
        data = {
            "csrfmiddlewaretoken": self.csrf(page),
            "registration_key": str(uuid.uuid4()),
            "number": "v",
            "salutation": "mw",
            "initials": "E.B.",
            "prefix": "",
            "surname": f"Last{tag}",
            "first_name": "",
            "birth_date": "04-01-1991",
            "country": "NL",
            "postcode": "9468 BG",
            "house_number": str(self.rng.randrange(1, 300)),
            "iban": "",
            "bic": "",
            "identity_checked": "ja",
            "identity_document": "",
            "use_login_account": "ja",
            "email": f"last.{tag}@example.nl",
            "account": "",
            "existing_username": "",
            "subscription_type": "0141",
            "tariff": "",
            "discount": "",
            "action": "next",
            "reached": "1",
        }
        response = self.send("POST", url, name="register: next section (POST)", data=data)
        for _ in range(5):
            reached = re.search(HIDDEN.format("reached"), self.text(response))
            data["reached"] = reached.group(1) if reached else data["reached"]
            if data["reached"] == "4":
                shown = re.search(HIDDEN.format("shown"), self.text(response))
                data["shown"] = shown.group(1) if shown else ""
                break
            extra = {}
            if data["reached"] == "2" and not data["account"]:
                extra = {"choose_account": "nieuw"}
                data["account"] = "nieuw"
            response = self.send(
                "POST", url, name="register: next section (POST)", data={**data, **extra}
            )
        saved = self.send(
            "POST",
            url,
            name="register: Opslaan (POST)",
            data={**data, "action": "save"},
            expect=(302,),
        )
        self.follow(saved, name="register: the new customer")


class Signup(Visitor):
    """A new member signing up online with the login account they already have: choose
    Digital only, sign in at the KB (code flow), fill in the details, reach the payment step
    (the payment itself is at Mollie, outside this machine: not sent)."""

    fixed_count = _count("signup")
    wait_time = constant_pacing(_pacing("signup"))

    def on_start(self) -> None:
        _stagger("signup")

    @task
    def signup(self) -> None:
        self.cookies.clear()
        base = f"/word-lid/{SETUP['signup_library']}/"
        choose = self.follow(
            self.send("GET", base, name="signup: start", expect=(302,)), name="signup: abonnement"
        )
        step = self.send(
            "POST",
            f"{base}abonnement/",
            name="signup: abonnement (POST)",
            data={"csrfmiddlewaretoken": self.csrf(choose), "abonnement": "0141"},
            expect=(302,),
        )
        account = self.follow(step, name="signup: inlogaccount")
        login = re.search(
            r'<a class="button secondary" href="([^"]+)">Ik heb al een inlogaccount',
            self.text(account),
        )
        if not login:
            self.flow_failure("signup: no 'Ik heb al een inlogaccount'", account)
            return
        to_kb = self.send(
            "GET", login.group(1).replace("&amp;", "&"), name="signup: to the KB", expect=(302,)
        )
        page = self.follow(to_kb, name="signup: to the KB")
        username = f"bench-load-{self.rng.randrange(int(SETUP.get('accounts', 1))):06d}"
        back = self.kb_login(page, username, SETUP.get("password", ""), name="signup")
        details_path = f"{base}gegevens/"
        details = self.send("GET", details_path, name="signup: gegevens")
        tag = self.letters(8)
        form = {
            "csrfmiddlewaretoken": self.csrf(details) or self.csrf(back),
            "salutation": "mw",
            "initials": "E.B.",
            "prefix": "",
            "surname": f"Online{tag}",
            "first_name": "",
            "birth_date": "04-01-1991",
            "country": "NL",
            "postcode": "9468 BG",
            "house_number": str(self.rng.randrange(1, 300)),
            "email": f"online.{tag}@example.nl",
        }
        posted = self.send(
            "POST", details_path, name="signup: gegevens (POST)", data=form, expect=(302,)
        )
        self.follow(posted, name="signup: betalen (cost build-up)")
