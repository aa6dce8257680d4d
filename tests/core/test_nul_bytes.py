"""A NUL byte in a request is answered 400 (the Dutch page), never 500, at every URL.

PostgreSQL cannot store or compare text with a NUL byte, so before the guard every view that
looked a value up or saved it answered 500 there (SQLite took it). The walk covers every URL
pattern of bieb/urls.py, with a NUL in a path argument, in the query string and in a posted
form, anonymously and as counter staff; it runs on both databases (marked data).
"""

import re
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from bieb.staff.models import User

pytestmark = pytest.mark.django_db

NUL = "%00"
SAMPLES = {
    "str": "20000000000013",
    "path": "1",
    "slug": "bind",
    "int": "1",
    "uuid": str(uuid.uuid4()),
}
# The few regex patterns, each with an address it matches; a new one must be added here.
# The admin's app index pattern lists every app with admin models, so it is matched by its start.
ADMIN_APP_INDEX = r"^(?P<app_label>"
REGEX_SAMPLES = {
    r"(?P<url>.*)$": "iets/",
    r"^\.well-known/openid-configuration/?$": ".well-known/openid-configuration",
}
# Names the views read from queries and forms, and a key that is itself a NUL.
FIELDS = [
    "q",
    "next",
    "aan",
    "code",
    "state",
    "username",
    "password",
    "email",
    "number",
    "surname",
    "amount",
    "uitkomst",
    "id",
    "redirect_uri",
    "client_id",
    "once",
    "a\x00b",
]
CONVERTER = re.compile(r"<(?:(?P<kind>[^>:]+):)?(?P<name>[^>]+)>")


def _routes(patterns: list[object], prefix: str = "/") -> Iterator[tuple[str, str]]:
    """(name, sample path with {NUL} where a path argument can carry one) for every pattern."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + _sample(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield str(pattern.name), prefix + _sample(pattern.pattern)


def _sample(pattern: object) -> str:
    if isinstance(pattern, RegexPattern):
        regex = str(pattern)
        if regex.startswith(ADMIN_APP_INDEX) and "|libraries|" in regex:
            return "libraries/"
        assert regex in REGEX_SAMPLES, f"teach the walk an address for {regex!r}"
        return REGEX_SAMPLES[regex]
    assert isinstance(pattern, RoutePattern)
    # The first argument carries the NUL ("{nul}" is filled in per request).
    parts = CONVERTER.split(str(pattern))
    out, first = [], True
    for i in range(0, len(parts), 3):
        out.append(parts[i])
        if i + 1 < len(parts):
            kind = parts[i + 1] or "str"
            out.append(SAMPLES[kind] + ("{nul}" if first else ""))
            first = False
    return "".join(out)


ROUTES = list(_routes(get_resolver().url_patterns))


def _form() -> dict[str, str]:
    return {name: f"a\x00{name}" for name in FIELDS}


@pytest.mark.parametrize("role", ["anonymous", "balie"])
def test_a_nul_byte_anywhere_is_a_dutch_400_never_a_500(role: str, demo: None) -> None:
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(User.objects.get(username=role))
    query = "&".join(f"{name.replace(chr(0), NUL)}=a{NUL}b" for name in FIELDS)
    wrong: list[str] = []
    for name, route in ROUTES:
        with_nul = route.format(nul=NUL) if "{nul}" in route else route + NUL
        clean = route.format(nul="")
        responses = [
            ("GET path", client.get(with_nul)),
            ("POST path", client.post(with_nul, {"x": "1"})),
            ("GET query", client.get(f"{clean}?{query}")),
            ("POST form", client.post(clean, _form())),
            ("header", client.get(clean, HTTP_AUTHORIZATION="Bearer a\x00b")),
        ]
        for what, response in responses:
            page = response.content.decode()
            if response.status_code != 400 or "Dit verzoek klopt niet" not in page:
                wrong.append(f"{what} {name} {clean}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert len(ROUTES) > 150  # the walk saw the whole site, the admin included
