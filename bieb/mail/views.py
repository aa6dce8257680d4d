"""The demo mailbox at /dev/mail/: the outbox as a web page, so that the demo works without SMTP.

It exists only in demo mode (settings.DEMO); everywhere else it is a 404. It needs no login, as
it is the demo members' mailbox.
"""

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from bieb.mail.models import OutboxMessage
from bieb.mail.selectors import outbox_message_get, outbox_message_list

DEV_OUTBOX_LIMIT = 200

# Links in the mail open in a new tab: the pages they lead to refuse to be framed.
_LINKS_IN_NEW_TAB = '<base target="_blank">'
# A mail's HTML is shown in a frame of its own, under its own policy: mail carries inline style
# (mail clients know no other), which the site's policy refuses; it runs no script, reaches no
# server, is sandboxed even when opened on its own, and only the mailbox page may frame it.
MAIL_HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


def demo_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DEMO:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@require_safe
@never_cache
@demo_only
def dev_outbox(request: HttpRequest) -> HttpResponse:
    to = request.GET.get("aan", "").strip()
    messages = outbox_message_list(to=to)[:DEV_OUTBOX_LIMIT]
    return render(request, "mail/dev_outbox.html", {"outbox": messages, "to": to})


@require_safe
@never_cache
@demo_only
def dev_message(request: HttpRequest, message_id: int) -> HttpResponse:
    try:
        message = outbox_message_get(message_id=message_id)
    except OutboxMessage.DoesNotExist:
        raise Http404 from None
    return render(request, "mail/dev_message.html", {"message": message})


@require_safe
@never_cache
@xframe_options_sameorigin
@demo_only
def dev_message_html(request: HttpRequest, message_id: int) -> HttpResponse:
    try:
        message = outbox_message_get(message_id=message_id)
    except OutboxMessage.DoesNotExist:
        raise Http404 from None
    if not message.html_body:
        raise Http404
    response = HttpResponse(_html_framed(message.html_body))
    response["Content-Security-Policy"] = MAIL_HTML_POLICY
    return response


def _html_framed(html: str) -> str:
    if not html:
        return ""
    head = _HEAD.search(html)
    if head:
        return html[: head.end()] + _LINKS_IN_NEW_TAB + html[head.end() :]
    return _LINKS_IN_NEW_TAB + html
