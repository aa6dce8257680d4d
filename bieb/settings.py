"""Settings, read from the environment (see .env.example).

Demo mode (`BIEB_DEMO=1`, set by `make run`) runs on the embedded defaults: an SQLite file and a
secret key under `var/`, mail kept in the outbox. Outside demo mode the server refuses to start
without its own SECRET_KEY and ALLOWED_HOSTS, and runs with secure production settings.
"""

import ipaddress
import os
import secrets
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from bieb.kb.keys import signing_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BIEB_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "ja", "on"}


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _demo_secret_key() -> str:
    """A per-checkout key for the demo, made on first start and kept out of the repository."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEMO = env_bool("BIEB_DEMO")
DEBUG = env_bool("BIEB_DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEMO:
    SECRET_KEY = SECRET_KEY or _demo_secret_key()
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
else:
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a secret of at least 32 characters "
            "(or run the demo with BIEB_DEMO=1)."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must list the host names this server answers to, comma-separated "
            "(or run the demo with BIEB_DEMO=1)."
        )

# The demo's base follows PORT, so links in mail and the OIDC issuer match where it serves.
BIEB_BASE_URL = os.environ.get(
    "BIEB_BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
).rstrip("/")
# The installation's role (DESIGN.md "Architecture", docs/architecture.md "Roles"): `all` (the
# default, the demo: the library side and the login service in one process), `kb` (the login
# service alone: /kb/, its API, /online/) or `library` (the library side alone: the counter,
# sign-up, Mijn bibliotheek, payments, finance), which talks to the login service at
# BIEB_KB_URL over its API. Not to be confused with `bieb serve --role` (web, worker, periodic).
BIEB_ROLE = (os.environ.get("BIEB_ROLE") or "all").strip().lower()
if BIEB_ROLE not in ("all", "kb", "library"):
    raise ImproperlyConfigured("BIEB_ROLE is all (the default), kb or library.")
BIEB_HAS_KB = BIEB_ROLE in ("all", "kb")
BIEB_HAS_LIBRARY = BIEB_ROLE in ("all", "library")
# Where the relying parties (sign-up, Online Bibliotheek) find the login service (KB): empty is
# this server. With the KB served by this very process they ask it in process, never over HTTP
# to themselves (bieb.integrations.kb.client).
BIEB_KB_URL = os.environ.get("BIEB_KB_URL", "").rstrip("/")
BIEB_KB_IN_PROCESS = BIEB_KB_URL in ("", BIEB_BASE_URL) and BIEB_HAS_KB
# How the library side calls the login service (bieb.kb.interface): in this process, or over
# the KB's API at BIEB_KB_URL with this installation's client credentials (made at the KB with
# `bieb kb_api_client`).
BIEB_KB_ADAPTER = "in-process" if BIEB_HAS_KB else "http"
BIEB_KB_CLIENT_ID = os.environ.get("BIEB_KB_CLIENT_ID", "")
BIEB_KB_CLIENT_SECRET = os.environ.get("BIEB_KB_CLIENT_SECRET", "")
if BIEB_ROLE == "library" and not (BIEB_KB_URL and BIEB_KB_CLIENT_ID and BIEB_KB_CLIENT_SECRET):
    raise ImproperlyConfigured(
        "BIEB_ROLE=library needs the login service: BIEB_KB_URL (e.g. https://kb.example) and "
        "this installation's client of the KB's API, BIEB_KB_CLIENT_ID and "
        "BIEB_KB_CLIENT_SECRET (`bieb kb_api_client` at the KB makes them)."
    )
# The KB role: the base URLs of the library installations whose sign-up and Mijn bibliotheek
# sign members in here (their OIDC redirect URIs are registered for each), comma-separated.
BIEB_LIBRARY_URLS = [url.rstrip("/") for url in env_list("BIEB_LIBRARY_URLS")]
# The library's calls to the KB (bieb.kboutbox) are made right after the commit that queued
# them, in the same process, when the KB runs in this process (the demo: the counter shows the
# result at once, as before); otherwise a background task makes them.
BIEB_KB_OUTBOX_INLINE = env_bool("BIEB_KB_OUTBOX_INLINE", BIEB_KB_IN_PROCESS)
BIEB_ACTIVATION_HOURS = float(os.environ.get("BIEB_ACTIVATION_HOURS", "24"))
# A reset link is asked for by the member a moment before it is used: it lives shorter.
BIEB_RESET_HOURS = float(os.environ.get("BIEB_RESET_HOURS", "2"))
# A username given up (changed, or its account deleted) is held back this many days before
# anyone else may take it (bieb.kb.models.HeldUsername).
BIEB_USERNAME_QUARANTINE_DAYS = float(os.environ.get("BIEB_USERNAME_QUARANTINE_DAYS", "30"))
# The daily renewal run's processes (PostgreSQL): the libraries are spread over them.
BIEB_RENEWAL_WORKERS = max(1, int(os.environ.get("BIEB_RENEWAL_WORKERS", "1") or "1"))
BIEB_DEMO_PASSWORD = os.environ.get("BIEB_DEMO_PASSWORD", "demo-balie")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS") or [BIEB_BASE_URL]

# The apps of each side (docs/architecture.md); `staff` and `libraries` are in every role
# (staff users belong to a library; the admin site is there in each role).
_KB_APPS = {"bieb.kb", "bieb.online", "oauth2_provider", "ninja"}
_LIBRARY_APPS = {
    "bieb.audit",
    "bieb.customers",
    "bieb.kboutbox",
    "bieb.payments",
    "bieb.debits",
    "bieb.signup",
    "bieb.mijn",
    "bieb.counter",
    "bieb.retention",
    "bieb.statistics",
    "bieb.demo",
}
INSTALLED_APPS = [
    "bieb.core",
    "bieb.staff",
    "bieb.libraries",
    "bieb.audit",
    "bieb.customers",
    "bieb.kboutbox",
    "bieb.kb",
    "bieb.mail",
    "bieb.payments",
    "bieb.debits",
    "bieb.signup",
    "bieb.online",
    "bieb.mijn",
    "bieb.counter",
    "bieb.retention",
    "bieb.statistics",
    "bieb.demo",
    "bieb.staff.apps.BiebAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "bieb.core.staticfiles.StaticFilesConfig",  # django.contrib.staticfiles, less ReDoc
    "django_tasks",
    "django_tasks_db",
    "oauth2_provider",
    # The KB's API (bieb.kb.api); listed so that its docs page is served from its own static
    # files (Swagger UI), never from a CDN.
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_prometheus",
]
if not BIEB_HAS_KB:
    INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in _KB_APPS]
if not BIEB_HAS_LIBRARY:
    INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in _LIBRARY_APPS]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# django-otp's verified state of the staff user (bieb.staff.admin_site): it needs the user.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
# The name an authenticator app shows for the operator's account.
OTP_TOTP_ISSUER = "Bieb beheer"

ROOT_URLCONF = "bieb.urls"
WSGI_APPLICATION = "bieb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bieb.core.context.sites",
            ],
        },
    },
]

if not os.environ.get("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
# A connection is kept for a minute of requests, and checked before each request's first query
# (CONN_HEALTH_CHECKS): one that died with a database restart is replaced there, instead of
# failing that request.
DATABASE_CONN_MAX_AGE = 60
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'bieb.sqlite3'}",
        conn_max_age=DATABASE_CONN_MAX_AGE,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and the periodic jobs share the file; IMMEDIATE
    # transactions take the write lock up front instead of failing halfway with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, so that psycopg prepares a statement the connection runs
    # again and again (its default: from the fifth time); the server then skips parsing and
    # planning it. Not for a transaction-pooling PgBouncer in front of the server.
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "staff.User"

PASSWORD_HASHERS = [
    "bieb.core.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Django's checks, in our words (bieb.kb.passwords); the order is the order of the rules shown.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "bieb.kb.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "bieb.kb.passwords.UserAttributeSimilarityValidator"},
    {"NAME": "bieb.kb.passwords.CommonPasswordValidator"},
    {"NAME": "bieb.kb.passwords.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands")]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Source maps (django-ninja's API pages bring 5 MB of them) are kept for the browsers' tools but
# not compressed: Brotli at its best spends most of `collectstatic`, so of `make run`, on them.
# Only the hashed names are compressed and kept: every page links through {% static %}.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

_email = dj_email_url.parse(os.environ["EMAIL_URL"]) if os.environ.get("EMAIL_URL") else None
# Without SMTP the outbox keeps each mail unsent (readable at /dev/mail/ in demo mode).
BIEB_SMTP_CONFIGURED = bool(_email)
if _email:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email["EMAIL_PORT"]
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
    EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
    EMAIL_TIMEOUT = 10
else:
    # No SMTP configured: nothing leaves the machine.
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Bieb <noreply@bieb.localhost>")

# Background tasks: in the database (embedded, the default), or on Redis through django-tasks'
# RQ backend when REDIS_URL is set (`bieb serve --role worker` then runs an RQ worker). Either
# way the database stays the record of the work: a task only carries an id, and a task that is
# lost (a worker killed, Redis down or restarted without persistence) is redone by its periodic
# job (the outbox retry, the payment check). docs/deployment.md says what happens when.
REDIS_URL = os.environ.get("REDIS_URL", "")


def _redis_url_with_timeouts(url: str) -> str:
    """Without timeouts a request that enqueues would hang on an unreachable Redis (redis-py's
    default is to wait forever); the RQ worker raises its own read timeout above its wait."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("socket_connect_timeout", "2")
    query.setdefault("socket_timeout", "5")
    return urlunsplit(parts._replace(query=urlencode(query)))


if REDIS_URL:
    INSTALLED_APPS.append("django_rq")
    # A task that runs longer is stopped (RQ kills its process). The renewal run's one task
    # mails thousands; each SMTP step times out after EMAIL_TIMEOUT on its own.
    RQ_QUEUES = {"default": {"URL": _redis_url_with_timeouts(REDIS_URL), "DEFAULT_TIMEOUT": 3600}}
    # The queues are watched through /ready/ and /metrics, not django-rq's admin pages.
    RQ_SHOW_ADMIN_LINK = False
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LOGIN_URL = "/admin/login/"

# Django's database sessions, with the change of key at login written in the login's commit.
SESSION_ENGINE = "bieb.core.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# A browser sends a host's cookies to each of its ports (RFC 6265 8.5), so installations on one
# host (README "Rollen": the KB on 8300 and two libraries on 8301 and 8302) would overwrite
# each other's `sessionid`: an online sign-up that goes to the KB and back would lose one of
# its two sessions. An installation of a role of its own names its cookies after the role and
# its port; `all` (one installation) keeps Django's names.
_cookie_owner = [BIEB_ROLE, str(urlsplit(BIEB_BASE_URL).port or "")] if BIEB_ROLE != "all" else []
_cookie_suffix = "".join(f"_{part}" for part in _cookie_owner if part)
SESSION_COOKIE_NAME = f"sessionid{_cookie_suffix}"
CSRF_COOKIE_NAME = f"csrftoken{_cookie_suffix}"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Reverse proxies in front of the server (0: none, clients connect directly). Only then are the
# proxies' headers believed: the client address from X-Forwarded-For (bieb.core.http) and
# HTTPS from X-Forwarded-Proto; a server exposed directly would trust forged ones.
_proxies = os.environ.get("BIEB_TRUSTED_PROXIES", "").strip() or "0"
BIEB_TRUSTED_PROXIES = int(_proxies) if _proxies.isdigit() else -1
if BIEB_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("BIEB_TRUSTED_PROXIES is a number of proxies: 0 or more.")
if BIEB_TRUSTED_PROXIES > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEMO:
    SECURE_SSL_REDIRECT = env_bool("BIEB_SSL_REDIRECT", True)
    # A load balancer asks these over plain HTTP, server by server, behind the TLS proxy.
    SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("BIEB_HSTS_PRELOAD")
    if not SECURE_HSTS_PRELOAD:
        # Joining the browsers' preload list is a commitment for the operator to make.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# /metrics (bieb.core.metrics): a bearer token, and/or the addresses and networks that may ask
# without one (the demo: this machine only).
BIEB_METRICS_TOKEN = os.environ.get("BIEB_METRICS_TOKEN", "")
BIEB_METRICS_ALLOWED = env_list("BIEB_METRICS_ALLOWED") or (
    ["127.0.0.0/8", "::1/128"] if DEMO else []
)
for _network in BIEB_METRICS_ALLOWED:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"BIEB_METRICS_ALLOWED: {_network} is no address") from _error

# BIEB_LOG_FORMAT=json: one JSON object per line (bieb.core.requestid), else plain text; both
# carry the request id.
BIEB_LOG_FORMAT = os.environ.get("BIEB_LOG_FORMAT", "plain")
if BIEB_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("BIEB_LOG_FORMAT is plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "bieb.core.requestid.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "bieb.core.requestid.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": BIEB_LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("BIEB_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Online payments (bieb.payments): Mollie's API key (test_... or live_...) and, for tests
# against a local fake, its API endpoint.
BIEB_MOLLIE_API_KEY = os.environ.get("BIEB_MOLLIE_API_KEY", "")
BIEB_MOLLIE_API_ENDPOINT = os.environ.get("BIEB_MOLLIE_API_ENDPOINT", "https://api.mollie.com")
# Bearer token of the Online Bibliotheek's entitlement endpoint; empty refuses every request.
BIEB_ENTITLEMENTS_TOKEN = os.environ.get("BIEB_ENTITLEMENTS_TOKEN", "")

# The most one payment at the desk may be (euros); a typo such as 4200 for 42,00 is refused.
try:
    BIEB_DESK_PAYMENT_MAXIMUM = Decimal(os.environ.get("BIEB_DESK_PAYMENT_MAXIMUM", "1000.00"))
except ArithmeticError:
    BIEB_DESK_PAYMENT_MAXIMUM = Decimal("NaN")
if not (BIEB_DESK_PAYMENT_MAXIMUM.is_finite() and BIEB_DESK_PAYMENT_MAXIMUM > 0):
    raise ImproperlyConfigured("BIEB_DESK_PAYMENT_MAXIMUM must be an amount in euros, e.g. 1000.00")

# Retention (bieb.retention, bieb.kb.retention; `bieb retention`). A library's own period for
# its customers' personal data is `Library.retention_months` (admin, default 24). Financial
# records (ledger, debits, payments) of an anonymised customer are kept this many years after
# the anonymisation, then deleted with the customer number.
BIEB_LEDGER_RETENTION_YEARS = max(1, int(os.environ.get("BIEB_LEDGER_RETENTION_YEARS", "7")))
# The login service: an account unused this many months and without a valid membership is
# warned by mail, and deleted this many days after the warning unless it is used meanwhile.
BIEB_KB_RETENTION_MONTHS = max(1, int(os.environ.get("BIEB_KB_RETENTION_MONTHS", "36")))
BIEB_KB_RETENTION_WARNING_DAYS = max(1, int(os.environ.get("BIEB_KB_RETENTION_WARNING_DAYS", "30")))

# The login service's OpenID Connect provider (django-oauth-toolkit), issuer <base>/kb.
# Its models are swapped for ones whose tokens belong to a login account (bieb.kb).
OAUTH2_PROVIDER_APPLICATION_MODEL = "kb.OIDCApplication"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "kb.OIDCAccessToken"  # noqa: S105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "kb.OIDCRefreshToken"  # noqa: S105
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "kb.OIDCIDToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "kb.OIDCGrant"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "kb.OIDCDeviceGrant"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": f"{BIEB_BASE_URL}/kb",
    "OIDC_RSA_PRIVATE_KEY": signing_key(VAR_DIR) if BIEB_HAS_KB else "",
    "OAUTH2_VALIDATOR_CLASS": "bieb.kb.oidc.Validator",
    "PKCE_REQUIRED": True,
    # The authorization code flow only (no implicit, no hybrid); discovery and the validator
    # (bieb.kb.oidc) both follow this list.
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    # RFC 9700 (OAuth 2.0 security best current practice): S256 only, no implicit or password
    # grant, tokens only in headers, hashed token storage, "iss" in the authorization response.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "SCOPES": {
        "openid": "Inloggen met je inlogaccount (en je lidmaatschappen)",
        "profile": "Je gebruikersnaam",
        "email": "Je e-mailadres",
        # Library systems only (client credentials): the KB's API, bieb.kb.api.
        "kb.accounts": "Inlogaccounts van de eigen bibliotheken beheren (bibliotheeksystemen)",
    },
    "SCOPES_BACKEND_CLASS": "bieb.kb.api.auth.LibraryScopes",
    "DEFAULT_SCOPES": ["openid"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 14 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # RP-initiated logout (end_session_endpoint, bieb.kb.oidc.LogoutView): a client's member is
    # signed out of the login service without a question when the client names the member
    # signed in here (id_token_hint); only the tokens of that sign-in end (the view's own
    # choice, not the toolkit's, which ends every token of the member on every device).
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "OIDC_RP_INITIATED_LOGOUT_ACCEPT_EXPIRED_TOKENS": True,
    "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": False,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"] if DEMO else ["https"],
}

# The KB's API (bieb.kb.api): calls per minute per library system (client), past which it
# answers 429 with Retry-After.
BIEB_KB_API_CALLS_PER_MINUTE = int(os.environ.get("BIEB_KB_API_CALLS_PER_MINUTE", "600") or "600")

# --- Web hardening (issue 10, items 10, 14, 15 and the error pages) -------------------------
# Kept in one block: the request guard, the Content-Security-Policy, the session lifetimes and
# the Dutch error pages.

# A NUL byte anywhere in a request is refused with the Dutch 400 page before any view (and the
# database, which cannot store it) sees it. Then django-csp sets the policy on every answer
# (outermost, so the 400 page gets it too), and staff sessions end after a working day or when
# idle (after authentication, which it needs).
MIDDLEWARE.insert(0, "bieb.core.middleware.RejectNulBytesMiddleware")
MIDDLEWARE.insert(0, "csp.middleware.CSPMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "bieb.core.middleware.StaffSessionMiddleware",
)
if BIEB_HAS_KB:
    MIDDLEWARE.append("bieb.kb.csp.ClientFormTargetsMiddleware")
# Outermost: every log line of a request, whichever middleware writes it, has its id; the
# request metrics (django-prometheus) around everything else.
MIDDLEWARE.insert(0, "django_prometheus.middleware.PrometheusBeforeMiddleware")
MIDDLEWARE.insert(0, "bieb.core.requestid.RequestIdMiddleware")
MIDDLEWARE.append("django_prometheus.middleware.PrometheusAfterMiddleware")


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# No inline script or style anywhere: every page's script and style is a static file. Forms may
# post only here; a form's answer may lead on to the payment provider's checkout (Mollie, when
# configured) or, from the login service's pages, to a registered OIDC client (bieb.kb.csp).
_FORM_TARGETS = ["'self'"]
if BIEB_MOLLIE_API_KEY:
    _FORM_TARGETS.append("https://www.mollie.com")
if _origin(os.environ.get("BIEB_KB_URL", "")):
    _FORM_TARGETS.append(_origin(os.environ["BIEB_KB_URL"]))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "form-action": _FORM_TARGETS,
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Sessions. Staff (the counter on shared PCs, and /admin/) log in for at most a working day and
# are logged out after BIEB_STAFF_IDLE_MINUTES without a request; a counter form sent after that
# is kept and shown again after the new login (bieb.core.middleware, bieb.counter.access).
# Members (the login service and the Online Bibliotheek) stay signed in for 7 days after their
# session last changed: long enough not to ask a member at home every day, short enough that a
# forgotten sign-in ends within a week (the Online Bibliotheek's refresh token lasts 14 days).
BIEB_STAFF_SESSION_HOURS = float(os.environ.get("BIEB_STAFF_SESSION_HOURS", "10"))
BIEB_STAFF_IDLE_MINUTES = float(os.environ.get("BIEB_STAFF_IDLE_MINUTES", "30"))
SESSION_COOKIE_AGE = 7 * 24 * 3600

# Error pages in Dutch, in the look of the part of the site they appear in (bieb.core.errors).
CSRF_FAILURE_VIEW = "bieb.core.errors.csrf_failure"
