"""One id per request, through the web process, the background tasks it starts and the mails
they send: every log line carries it (`request_id`), the response names it (`X-Request-ID`),
and `BIEB_LOG_FORMAT=json` writes the log as one JSON object per line for a log collector.

A request gets a new id, or the one a trusted proxy sent (`X-Request-ID`, with
BIEB_TRUSTED_PROXIES set; letters, digits and dashes, at most 64). A task is enqueued with
the id of the request that started it (`request_id_current()`) and runs under it
(`request_id_bound`); outside any request (the periodic jobs) the id is "-".
"""

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

_CURRENT: ContextVar[str] = ContextVar("bieb_request_id", default="-")
_SAFE = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def request_id_current() -> str:
    return _CURRENT.get()


@contextmanager
def request_id_bound(value: str) -> Iterator[str]:
    """Run the block under this id (a task's, from the request that enqueued it); a missing
    one gets a new id, so a task's lines still belong together."""
    value = value if value and value != "-" and _SAFE.match(value) else uuid.uuid4().hex
    token = _CURRENT.set(value)
    try:
        yield value
    finally:
        _CURRENT.reset(token)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get("X-Request-ID", "")
        value = sent if settings.BIEB_TRUSTED_PROXIES > 0 and _SAFE.match(sent) else ""
        value = value or uuid.uuid4().hex
        # Set until the request is finished, not only around the middleware: Django writes
        # its "Not Found" and server-error lines after the middleware returned.
        _CURRENT.set(value)
        response = self.get_response(request)
        response["X-Request-ID"] = value
        return response


def _request_finished(**kwargs: object) -> None:
    _CURRENT.set("-")


request_finished.connect(_request_finished, dispatch_uid="bieb.core.requestid")


class RequestIdFilter(logging.Filter):
    """Puts the current id on every record (`%(request_id)s`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _CURRENT.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id,
    and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", _CURRENT.get()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        import datetime as dt

        moment = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
