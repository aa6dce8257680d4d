from django.urls import path

from bieb.kb import views

app_name = "kb"

urlpatterns = [
    path("", views.home, name="home"),
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
]
