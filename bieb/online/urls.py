from django.urls import path

from bieb.online import views

app_name = "online"

urlpatterns = [
    path("", views.home, name="home"),
    path("inloggen/", views.login, name="login"),
    path("callback/", views.callback, name="callback"),
    path("uitloggen/", views.logout, name="logout"),
    path("uitgelogd/", views.logged_out, name="logged_out"),
    path("api/entitlements/<str:username>/", views.entitlements, name="entitlements"),
]
