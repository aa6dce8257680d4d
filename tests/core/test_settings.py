"""Outside demo mode the server refuses to start without its own secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"BIEB_DEMO", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="bieb.settings")
    return subprocess.run(
        [sys.executable, "-m", "bieb", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_refuses_to_start_without_a_secret_key() -> None:
    result = start({"ALLOWED_HOSTS": "bieb.example.nl"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_refuses_to_start_without_allowed_hosts() -> None:
    result = start({"SECRET_KEY": "k" * 50})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must list" in result.stderr


@pytest.mark.parametrize("redis", ["", "redis://127.0.0.1:6399/0"])
def test_production_settings_pass_djangos_deployment_checks(redis: str) -> None:
    """Also with the tasks on Redis (django-tasks-rq checks its own set-up: django-rq installed,
    the queue configured, rq recent enough); no Redis needs to answer for that."""
    result = start(
        {
            "SECRET_KEY": "a-real-secret-" + "q8Zr!" * 10,
            "ALLOWED_HOSTS": "bieb.example.nl",
            "REDIS_URL": redis,
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr


def is_secure_with(env: dict[str, str]) -> str:
    """Whether a request with a forged X-Forwarded-Proto counts as HTTPS, outside demo mode."""
    clean = {k: v for k, v in os.environ.items() if k not in {"BIEB_DEMO", "BIEB_TRUSTED_PROXIES"}}
    clean.update(
        env,
        SECRET_KEY="a-real-secret-" + "q8Zr!" * 10,
        ALLOWED_HOSTS="bieb.example.nl",
        DJANGO_SETTINGS_MODULE="bieb.settings",
    )
    code = (
        "import django; django.setup(); from django.test import RequestFactory; "
        "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https').is_secure())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_server_exposed_directly_does_not_believe_a_forwarded_https_header() -> None:
    assert is_secure_with({}) == "False"


def test_behind_a_trusted_proxy_the_forwarded_https_header_counts() -> None:
    assert is_secure_with({"BIEB_TRUSTED_PROXIES": "1"}) == "True"


def test_a_wrong_number_of_proxies_stops_the_start() -> None:
    result = start(
        {
            "SECRET_KEY": "a-real-secret-" + "q8Zr!" * 10,
            "ALLOWED_HOSTS": "bieb.example.nl",
            "BIEB_TRUSTED_PROXIES": "ja",
        }
    )
    assert result.returncode != 0
    assert "BIEB_TRUSTED_PROXIES is a number of proxies" in result.stderr
