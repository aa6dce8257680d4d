"""The backup and restore of docs/deployment.md, done: pg_dump of a database with the demo data,
pg_restore into a new database, the same rows in every table there, and nothing to migrate."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

pytestmark = [pytest.mark.postgres, pytest.mark.data]
ROOT = Path(__file__).resolve().parents[2]


def server_url(dbname: str) -> str:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    return base.rsplit("/", 1)[0] + f"/{dbname}"


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    names = (f"bieb_backup_{uuid.uuid4().hex[:8]}", f"bieb_restored_{uuid.uuid4().hex[:8]}")
    with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield names
    finally:
        with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bieb(*args: str, dbname: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": server_url(dbname),
        "BIEB_DEMO": "1",
        "BIEB_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "bieb.settings",
    }
    return subprocess.run(
        [sys.executable, "-m", "bieb", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def row_counts(dbname: str) -> dict[str, int]:
    with psycopg.connect(server_url(dbname)) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        counts = {}
        for table in tables:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            row = conn.execute(query).fetchone()
            counts[table] = row[0] if row else -1
        return counts


def test_a_dump_restores_into_a_new_database_with_every_row(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    source, restored = databases
    for command in (("migrate", "--noinput"), ("demo",)):
        result = bieb(*command, dbname=source, tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
    dump = tmp_path / "bieb.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", server_url(source)],
        check=True,
        timeout=120,
    )
    subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={server_url(restored)}", str(dump)],
        check=True,
        timeout=120,
    )
    before, after = row_counts(source), row_counts(restored)
    assert after == before
    assert before["libraries_library"] >= 2 and before["staff_user"] >= 3
    assert before["libraries_subscriptiontype"] > 0 and before["kb_oidcapplication"] == 3
    check = bieb("migrate", "--check", dbname=restored, tmp_path=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
