"""The login service's HTTP API for library systems, `/kb/api/v1/` (django-ninja).

`api` (the NinjaAPI and its endpoints), `auth` (OAuth2 client credentials, the libraries a
client may act for, the rate limit), `problems` (RFC 9457 errors), `idempotency` (stored answers
to retried calls), `events` (the feed of what happened to the libraries' accounts), `schemas`
(the request and response bodies). Models in `models` (imported by `bieb.kb.models`).
"""
