"""Mijn bibliotheek is library side: it knows the member only through the OpenID Connect
sign-in (`bieb.integrations.kb.client`) and never imports the login service itself."""

import re
from pathlib import Path

import bieb.mijn

MIJN = Path(bieb.mijn.__file__).parent


def test_mijn_bibliotheek_imports_nothing_of_the_login_service() -> None:
    for path in MIJN.rglob("*.py"):
        source = path.read_text()
        imported = re.findall(r"^\s*(?:from|import) (bieb\.kb\b\S*)", source, re.MULTILINE)
        assert not imported, f"{path.name} imports {imported}"
