"""Run the data tests on PostgreSQL.

The browser tests stay with the SQLite pass: what they check (the pages, the keyboard, axe,
the policy) does not depend on the engine, and the services under them run here in the data
tests, with PostgreSQL's locks and its concurrency tests. They are the slowest tests, and CI
has 15 minutes.

The server is BIEB_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test). In CI
(CI=true) an unreachable server fails the run; elsewhere the tests are skipped with one line.
"""

import os
import subprocess
import sys

import psycopg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def main() -> int:
    url = os.environ.get("BIEB_TEST_POSTGRES_URL", DEFAULT_URL)
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as error:
        if os.environ.get("CI"):
            print(f"PostgreSQL at {url} is unreachable in CI: {error}", file=sys.stderr)
            return 1
        print(
            f"PostgreSQL tests skipped: no server at {url}; "
            "set BIEB_TEST_POSTGRES_URL=postgresql://user@host:port/db to run them."
        )
        return 0
    env = {**os.environ, "DATABASE_URL": url, "BIEB_TEST_ON_POSTGRES": "1"}
    command = [sys.executable, "-m", "pytest", "-m", "data and not browser", *sys.argv[1:]]
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
