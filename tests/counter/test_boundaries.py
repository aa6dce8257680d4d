"""The counter is library side: it reaches the login service only through its interface."""

import re
from pathlib import Path

import bieb.counter

COUNTER = Path(bieb.counter.__file__).parent


def test_the_counter_imports_only_the_login_services_interface() -> None:
    for path in COUNTER.rglob("*.py"):
        source = path.read_text()
        for imported in re.findall(r"^\s*(?:from|import) (bieb\.kb\S*)", source, re.MULTILINE):
            assert imported == "bieb.kb", f"{path.name} imports {imported}"
        for names in re.findall(r"^\s*from bieb\.kb import (.+)$", source, re.MULTILINE):
            assert names.split(" as ")[0].strip() == "interface", f"{path.name}: {names}"
