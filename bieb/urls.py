from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, URLResolver, include, path

from bieb.core.health import health, ready
from bieb.core.metrics import metrics


def home(request: HttpRequest) -> HttpResponse:
    # Counter staff are the everyday users; configuration stays at /admin/. A login service
    # alone (BIEB_ROLE=kb) has no counter: its members start at the Online Bibliotheek.
    return redirect("counter:home" if settings.BIEB_HAS_LIBRARY else "online:home")


urlpatterns: list[URLPattern | URLResolver] = [
    path("", home, name="home"),
    path("health/", health, name="health"),
    path("ready/", ready, name="ready"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("dev/mail/", include("bieb.mail.urls")),
]

# Each role serves its own side (settings.BIEB_ROLE; docs/architecture.md "Roles").
if settings.BIEB_HAS_KB:
    from bieb.kb import oidc
    from bieb.kb.api.api import urlpatterns as kb_api_urlpatterns

    urlpatterns += [
        # The KB's API for library systems (bieb.kb.api), before the KB's pages. Included here,
        # not under the "kb" namespace: ninja names its own URLs ("kb-api:openapi-json").
        path("kb/api/v1/", kb_api_urlpatterns()),
        path("kb/", include("bieb.kb.urls")),
        path("kb/", include((oidc.urlpatterns, "oauth2_provider"))),
        path("online/", include("bieb.online.urls")),
    ]
if settings.BIEB_HAS_LIBRARY:
    urlpatterns += [
        path("word-lid/", include("bieb.signup.urls")),
        path("betalen/", include("bieb.payments.urls")),
        path("mijn/", include("bieb.mijn.urls")),
        path("balie/", include("bieb.counter.urls")),
    ]

# Dutch error pages in the look of the part of the site (bieb.core.errors).
handler400 = "bieb.core.errors.bad_request"
handler403 = "bieb.core.errors.permission_denied"
handler404 = "bieb.core.errors.page_not_found"
handler500 = "bieb.core.errors.server_error"
