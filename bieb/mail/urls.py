from django.urls import path

from bieb.mail import views

app_name = "mail"

urlpatterns = [
    path("", views.dev_outbox, name="dev_outbox"),
    path("<int:message_id>/", views.dev_message, name="dev_message"),
    path("<int:message_id>/html/", views.dev_message_html, name="dev_message_html"),
]
