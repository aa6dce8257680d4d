"""Mijn bibliotheek at /mijn/. The callback is one address for every library (the login
service knows one redirect URI); the library travels in the session."""

from django.urls import path

from bieb.mijn import views

app_name = "mijn"

urlpatterns = [
    path("", views.index, name="index"),
    path("terug/", views.callback, name="callback"),
    path("<slug:library_code>/", views.home, name="home"),
    path("<slug:library_code>/inloggen/", views.login, name="login"),
    path("<slug:library_code>/uitloggen/", views.logout, name="logout"),
    path("<slug:library_code>/klantnummer/", views.choose, name="choose"),
    path("<slug:library_code>/betalingen/", views.ledger, name="ledger"),
    path("<slug:library_code>/gegevens/", views.details, name="details"),
    path("<slug:library_code>/gegevens/download/", views.export_page, name="export"),
    path("<slug:library_code>/gegevens/download/json/", views.export_json, name="export_json"),
    path("<slug:library_code>/abonnementen/<int:pk>/opzeggen/", views.cancel, name="cancel"),
]
