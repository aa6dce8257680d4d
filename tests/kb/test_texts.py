"""Members are spoken to as "je", everywhere: no "u" or "uw" in what the login service, the
online sign-up and the Online Bibliotheek show or mail, nor in the password rules and their
errors (Django's own say "Uw wachtwoord …"). Counter staff texts keep their own style."""

import ast
import re
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core.exceptions import ValidationError

from bieb.kb import forms
from bieb.kb.models import LoginAccount

pytestmark = pytest.mark.django_db

BIEB = Path(__file__).resolve().parents[2] / "bieb"
FORMAL = re.compile(r"\b(u|uw|uzelf|heeft u|kunt u)\b", re.IGNORECASE)
MEMBER_APPS = ["kb", "signup", "online"]
# Strings of these apps that only counter staff see (through bieb.kb.interface).
STAFF_ONLY = {"De activeringsmail is net verstuurd. Wacht een minuut voor u hem opnieuw verstuurt."}


def visible_text(template: str) -> str:
    """What a template shows: without template tags, comments and HTML tags."""
    text = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", " ", template, flags=re.S)
    text = re.sub(r"<style.*?</style>|<script.*?</script>", " ", text, flags=re.S)
    return re.sub(r"<[^>]*>", " ", text)


def test_no_member_page_or_mail_says_u() -> None:
    templates = [path for app in MEMBER_APPS for path in (BIEB / app / "templates").rglob("*.*")]
    assert len(templates) > 20
    formal = {
        str(path.relative_to(BIEB)): FORMAL.findall(visible_text(path.read_text()))
        for path in templates
    }
    assert {path: words for path, words in formal.items() if words} == {}


def test_no_message_in_the_member_apps_code_says_u() -> None:
    found = []
    for app in MEMBER_APPS:
        for path in (BIEB / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            docstrings = {
                id(node.value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            }
            for node in ast.walk(tree):
                if id(node) in docstrings:
                    continue
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and FORMAL.search(node.value)
                    and node.value not in STAFF_ONLY
                ):
                    found.append((str(path.relative_to(BIEB)), node.value))
    assert found == []


def test_the_password_rules_and_every_password_error_say_je() -> None:
    rules = [str(rule) for rule in password_validators_help_texts()]
    assert len(rules) == 4
    account = LoginAccount(username="lezerjansen", email="lezer.jansen@example.nl")
    messages = []
    for password in ["kort", "1234567890123", "password12", "lezerjansen1", "Lezer.Jansen@ex"]:
        with pytest.raises(ValidationError) as error:
            validate_password(password, user=account)  # type: ignore[arg-type]
        messages += error.value.messages
    # every validator spoke: too short, numeric, common, similar
    assert len(set(messages)) >= 4, messages
    for text in rules + messages:
        assert not FORMAL.search(text), text
        assert text.startswith(("Je ", "Dit wachtwoord")), text
    for form in [forms.SignupForm, forms.LoginForm, forms.NewPasswordForm]:
        for field in form.base_fields.values():
            assert not FORMAL.search(f"{field.label} {field.help_text}"), field.label
