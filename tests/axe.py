"""axe-core (Deque's accessibility rules engine) run inside real Chromium pages.

axe-core is a JavaScript package, so it is not a Python dependency: the first run fetches the
pinned version with npm (`npm pack`, the registry's own client) into a cache outside the
repository (~/.cache/bieb, or BIEB_AXE_CACHE), checks the package against the pinned sha512 and
keeps its axe.min.js there. Not vendored: it is 560 kB of someone else's code (MPL-2.0), and a
pin plus a hash gives the same repeatable run. Without npm the accessibility tests are skipped,
except in CI (CI=true), where they fail.

The script is evaluated through the DevTools protocol, so the pages' Content-Security-Policy
(no inline or foreign script) does not stop it.
"""

import base64
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest

AXE_VERSION = "4.14.1"
AXE_SHA512 = (
    "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
# The rules of WCAG 2.1 A and AA plus axe's best practices (landmarks, one h1, ...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"axe-core is needed in CI: {reason}")
    pytest.skip(f"accessibility tests skipped: {reason}")


def axe_source() -> str:
    cache = Path(os.environ.get("BIEB_AXE_CACHE") or Path.home() / ".cache" / "bieb")
    script = cache / f"axe-core-{AXE_VERSION}.min.js"
    if script.exists():
        return script.read_text()
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm is missing (apt-get install npm)")
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--silent", "--pack-destination", folder],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            _unavailable(f"npm pack axe-core@{AXE_VERSION} failed: {done.stderr.strip()}")
        package = (Path(folder) / f"axe-core-{AXE_VERSION}.tgz").read_bytes()
    digest = base64.b64encode(hashlib.sha512(package).digest()).decode()
    assert digest == AXE_SHA512, f"axe-core {AXE_VERSION} is not the package pinned"
    with tarfile.open(fileobj=io.BytesIO(package)) as archive:
        member = archive.extractfile("package/axe.min.js")
        assert member is not None
        source = member.read().decode()
    cache.mkdir(parents=True, exist_ok=True)
    partial = script.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(source)
    partial.replace(script)  # whole or not at all, also with parallel runs
    return source


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The axe violations of the page as it is now, each as {id, help, nodes: [html, ...]}."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return list(
        page.evaluate(
            """async tags => {
                const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                return result.violations.map(v => ({
                    id: v.id, help: v.help, nodes: v.nodes.map(n => n.html)}));
            }""",
            AXE_TAGS,
        )
    )
