"""No template of a page carries what the Content-Security-Policy refuses: inline script,
style="" or <style>, on...= handlers, javascript: links. (Mail templates are not pages: mail
clients need inline style; the demo mailbox shows them under their own policy.)"""

import re
from pathlib import Path

import bieb

ROOT = Path(bieb.__file__).parent
REFUSED = [
    (re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style>"),
    (re.compile(r"\sstyle\s*=", re.I), 'style=""'),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on...= handler"),
    (re.compile(r"javascript:", re.I), "javascript: link"),
]


def is_mail(path: Path) -> bool:
    """A mail's template: templates/<app>/mail/... (the demo mailbox's pages are pages)."""
    parts = path.as_posix().split("/templates/", 1)[1].split("/")
    return len(parts) >= 3 and parts[1] == "mail"


def test_page_templates_need_no_inline_script_or_style() -> None:
    found = []
    templates = [p for p in ROOT.glob("*/templates/**/*.html") if not is_mail(p)]
    assert len(templates) > 40
    for path in templates:
        text = path.read_text()
        for pattern, what in REFUSED:
            if pattern.search(text):
                found.append(f"{path.relative_to(ROOT)}: {what}")
    assert found == []
