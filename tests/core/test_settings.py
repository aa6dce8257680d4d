"""Outside demo mode the server refuses to start without its own secrets."""

import os
import subprocess
import sys
from pathlib import Path

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


def test_production_settings_pass_djangos_deployment_checks() -> None:
    result = start(
        {"SECRET_KEY": "a-real-secret-" + "q8Zr!" * 10, "ALLOWED_HOSTS": "bieb.example.nl"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
