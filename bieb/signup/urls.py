from django.urls import path

from bieb.signup import views

app_name = "signup"

urlpatterns = [
    path("", views.index, name="index"),
    path("inlogaccount/terug/", views.account_callback, name="account_callback"),
    path("<slug:library_code>/", views.start, name="start"),
    path(
        "<slug:library_code>/inlogaccount/koppelen/",
        views.account_connect,
        name="account_connect",
    ),
    path(
        "<slug:library_code>/betaling/<uuid:public_id>/",
        views.payment_return,
        name="payment_return",
    ),
    path("<slug:library_code>/klaar/", views.done, name="done"),
    path("<slug:library_code>/opnieuw/", views.restart, name="restart"),
    path("<slug:library_code>/<slug:step_name>/", views.step, name="step"),
]
