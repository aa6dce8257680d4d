"""Template context every page gets."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def sites(request: HttpRequest) -> dict[str, Any]:
    """`kb_site`: where a member's browser finds the login service's pages (`/kb/`,
    `/online/`): this site ("") unless it runs elsewhere (BIEB_ROLE=library: BIEB_KB_URL)."""
    return {"kb_site": "" if settings.BIEB_HAS_KB else settings.BIEB_KB_URL}
