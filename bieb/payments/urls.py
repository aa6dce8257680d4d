from django.urls import path

from bieb.payments import views

app_name = "payments"

urlpatterns = [
    path("webhook/<slug:provider_code>/", views.webhook, name="webhook"),
    path("demo/<str:checkout_id>/", views.demo_checkout, name="demo_checkout"),
    path("verlengen/<str:token>/", views.period_pay, name="period_pay"),
    path("verlengen/<str:token>/incasso/", views.period_debit, name="period_debit"),
    path(
        "verlengen/<str:token>/terug/<uuid:public_id>/", views.period_return, name="period_return"
    ),
]
