"""The boundaries of DESIGN.md ("Architecture") as import contracts (pyproject.toml,
[tool.importlinter]; `make architecture` in `make test`): they hold for the code as it is, and an
import across a boundary breaks them (checked on a copy of the package with a leak added)."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(ROOT / "pyproject.toml")],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " kept, 0 broken." in result.stdout


def _only_python(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()]


@pytest.mark.parametrize(
    ("module", "leak", "broken"),
    [
        ("bieb/core/leak.py", "from bieb.customers import models", "core imports no other app"),
        ("bieb/core/leak.py", "import bieb.demo.loader", "core imports no other app"),
        (
            "bieb/kb/leak.py",
            "from bieb.customers.validators import clean_email",
            "The KB side (kb, online) imports no library app",
        ),
        (
            "bieb/online/leak.py",
            "from bieb.libraries.models import Library",
            "The KB side (kb, online) imports no library app",
        ),
        (
            "bieb/customers/leak.py",
            "from bieb.kb.models import LoginAccount",
            "Other apps reach the KB side only through bieb.kb.interface",
        ),
        (
            "bieb/counter/leak.py",
            "from bieb.online.selectors import entitlements_for",
            "Other apps reach the KB side only through bieb.kb.interface",
        ),
        (
            "bieb/mail/leak.py",
            "import bieb.staff.models",
            "mail and integrations import no domain app",
        ),
    ],
)
def test_an_import_across_a_boundary_breaks_them(
    tmp_path: Path, module: str, leak: str, broken: str
) -> None:
    shutil.copytree(ROOT / "bieb", tmp_path / "bieb", ignore=_only_python)
    (tmp_path / module).write_text(f"def later() -> None:\n    {leak}  # inside a function too\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{broken} BROKEN" in result.stdout
    assert " kept, 1 broken." in result.stdout
    assert module.replace("/", ".").removesuffix(".py") in result.stdout


# The apps that may be imported from either side: the project's own layer (core), and the
# shared services that import no domain app (mail, integrations).
SHARED = {"bieb.core", "bieb.mail", "bieb.integrations"}
KB_SIDE = {"bieb.kb", "bieb.online"}


def _apps() -> set[str]:
    return {f"bieb.{path.parent.name}" for path in (ROOT / "bieb").glob("*/__init__.py")}


def _forbidden(contract_id: str) -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["id"] == contract_id:
            return set(contract["forbidden_modules"])
    raise AssertionError(f"no contract {contract_id}")


@pytest.mark.parametrize(
    ("contract_id", "allowed"),
    [
        ("kb-side", KB_SIDE | SHARED),
        ("core", {"bieb.core"}),
        ("shared", SHARED),
    ],
)
def test_every_app_is_named_in_the_forbidden_contracts(contract_id: str, allowed: set[str]) -> None:
    """A new app is forbidden to the lower layers from its first commit: the lists are by hand,
    and an app left out of them (retention was) could be imported by the KB side unnoticed."""
    assert _forbidden(contract_id) == _apps() - allowed
