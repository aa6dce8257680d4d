"""BIEB_ROLE: each installation serves its own side and not the other's. `all` (the default,
this test process) serves both; `kb` the login service, its API and the Online Bibliotheek;
`library` the counter, sign-up, Mijn bibliotheek and payments, with no table of the login
service, calling it over HTTP. Each role passes `bieb check`. Run in processes of their own
(the installed apps are fixed at start)."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve

KB_PATHS = ["/kb/inloggen/", "/kb/api/v1/openapi.json", "/kb/token/", "/online/"]
LIBRARY_PATHS = ["/balie/", "/word-lid/", "/mijn/bind/", "/betalen/verlengen/x/"]
SHARED = ["/health/", "/admin/"]


def probe(role: str, tmp: Path, *, migrate: bool) -> dict[str, Any]:
    (tmp / role).mkdir(parents=True, exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BIEB_", "DATABASE_URL", "DJANGO_"))
    }
    env.update(
        BIEB_ROLE=role,
        BIEB_DEMO="1",
        SECRET_KEY="roles-" + "r" * 40,
        BIEB_VAR_DIR=str(tmp / role),
        DJANGO_SETTINGS_MODULE="bieb.test_settings",
        DATABASE_URL=f"sqlite:///{tmp / role / 'bieb.sqlite3'}",
    )
    if role == "library":
        env.update(
            BIEB_KB_URL="http://127.0.0.1:9",
            BIEB_KB_CLIENT_ID="bieb-bind",
            BIEB_KB_CLIENT_SECRET="geheim-" + "s" * 30,
        )
    if migrate:
        env["PROBE_MIGRATE"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "tests.core.role_probe", *KB_PATHS, *LIBRARY_PATHS, *SHARED],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("roles")
    with ThreadPoolExecutor(2) as pool:
        kb = pool.submit(probe, "kb", tmp, migrate=True)
        library = pool.submit(probe, "library", tmp, migrate=True)
        return {"kb": kb.result(), "library": library.result()}


def test_all_serves_both_sides_in_process() -> None:
    assert settings.BIEB_ROLE == "all" and settings.BIEB_KB_ADAPTER == "in-process"
    for path in KB_PATHS + LIBRARY_PATHS + SHARED:
        try:
            resolve(path)
        except Resolver404:  # pragma: no cover
            pytest.fail(f"{path} is not served in the role all")


def test_the_kb_role_serves_the_login_service_and_no_counter(
    roles: dict[str, dict[str, Any]],
) -> None:
    kb = roles["kb"]
    assert kb["adapter"] == "in-process"
    assert all(kb["resolves"][path] for path in KB_PATHS + SHARED)
    assert not any(kb["resolves"][path] for path in LIBRARY_PATHS)
    assert all(kb["status"][path] == 404 for path in LIBRARY_PATHS)
    assert kb["status"]["/kb/api/v1/openapi.json"] == 200
    assert kb["status"]["/health/"] == 200
    assert not {"bieb.counter", "bieb.customers", "bieb.signup", "bieb.mijn"} & set(kb["apps"])
    assert not any(t.startswith(("customers_", "payments_", "debits_")) for t in kb["tables"])
    # Its admin: the login service's own things and the staff, no library to manage.
    assert "kb.loginaccount" in kb["admin"] and "staff.user" in kb["admin"]
    assert not [model for model in kb["admin"] if model.startswith("libraries.")]


def test_the_library_role_serves_the_library_side_and_has_no_kb_tables(
    roles: dict[str, dict[str, Any]],
) -> None:
    library = roles["library"]
    assert library["adapter"] == "http"
    assert all(library["resolves"][path] for path in LIBRARY_PATHS + SHARED)
    assert not any(library["resolves"][path] for path in KB_PATHS)
    assert all(library["status"][path] == 404 for path in KB_PATHS)
    assert library["status"]["/balie/"] == 302  # to the staff login
    assert library["status"]["/health/"] == 200
    assert not {"bieb.kb", "bieb.online", "oauth2_provider", "ninja"} & set(library["apps"])
    assert [t for t in library["tables"] if t.startswith(("kb_", "oauth2_"))] == []
    assert "customers_customer" in library["tables"]
    assert "libraries_kbeventcursor" in library["tables"]
    assert "libraries.library" in library["admin"]
    assert not [model for model in library["admin"] if model.startswith(("kb.", "oauth2_"))]


def test_a_library_role_without_its_kb_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BIEB_", "DJANGO_"))}
    env.update(
        BIEB_ROLE="library",
        BIEB_DEMO="1",
        SECRET_KEY="roles-" + "r" * 40,
        BIEB_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="bieb.test_settings",
    )
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "BIEB_ROLE=library needs the login service" in done.stderr
