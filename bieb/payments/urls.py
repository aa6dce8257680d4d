from django.urls import path

from bieb.payments import views

app_name = "payments"

urlpatterns = [
    path("webhook/<slug:provider_code>/", views.webhook, name="webhook"),
    path("demo/<str:checkout_id>/", views.demo_checkout, name="demo_checkout"),
]
