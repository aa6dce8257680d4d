from django.urls import path

from bieb.kb import account_views, views
from bieb.kb.statistics import views as statistics_views

app_name = "kb"

urlpatterns = [
    path("", account_views.account_page, name="home"),
    path("aanmelden/", views.signup, name="signup"),
    path("activeren/<str:uidb64>/<str:token>/", views.activate, name="activate"),
    path("inloggen/", views.login, name="login"),
    path("uitloggen/", views.logout, name="logout"),
    path("wachtwoord-vergeten/", views.forgot_password, name="forgot_password"),
    path(
        "wachtwoord-herstellen/<str:uidb64>/<str:token>/",
        views.reset_password,
        name="reset_password",
    ),
    path("gebruikersnaam-vergeten/", views.forgot_username, name="forgot_username"),
    # Mijn inlogaccount (bieb.kb.account_views)
    path("account/", account_views.account_page, name="account"),
    path("account/gebruikersnaam/", account_views.username_page, name="account_username"),
    path("account/e-mail/", account_views.email_page, name="account_email"),
    path("account/e-mail/vergeten/", account_views.email_cancel, name="account_email_cancel"),
    path("account/wachtwoord/", account_views.password_page, name="account_password"),
    path(
        "account/overal-uitloggen/",
        account_views.logout_everywhere,
        name="account_logout_everywhere",
    ),
    path("account/gegevens/", account_views.data_page, name="account_data"),
    path("account/gegevens.json", account_views.data_json, name="account_data_json"),
    path("account/verwijderen/", account_views.delete_page, name="account_delete"),
    # KB operators (bieb.kb.statistics)
    path("beheer/statistiek/", statistics_views.statistics_page, name="statistics"),
    path(
        "e-mail-bevestigen/<str:uidb64>/<str:token>/",
        account_views.email_confirm,
        name="email_confirm",
    ),
]
