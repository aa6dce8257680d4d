"""The counter at /balie/. Every page but the login needs a staff member with a library; a
customer number in a URL is looked up within that library only."""

from django.urls import path

from bieb.counter import (
    access,
    finance,
    incasso,
    inzage,
    mandates,
    registration,
    statistics,
    views,
    year,
)

app_name = "counter"

urlpatterns = [
    path("", views.home, name="home"),
    path("inloggen/", access.login_view, name="login"),
    path("uitloggen/", access.logout_view, name="logout"),
    path("klanten/", views.search, name="search"),
    path("klanten/zoeken/", views.search_results, name="search_results"),
    path("klanten/nieuw/", registration.new_customer, name="new_customer"),
    path("klanten/<str:number>/", views.customer_page, name="customer"),
    path("klanten/<str:number>/ingeschreven/", views.registered, name="registered"),
    path("klanten/<str:number>/wijzigen/", views.customer_edit, name="customer_edit"),
    path("klanten/<str:number>/inzage/", inzage.inzage_page, name="inzage"),
    path("klanten/<str:number>/inzage/json/", inzage.inzage_json, name="inzage_json"),
    path("klanten/<str:number>/historie/", inzage.history_page, name="history"),
    path("klanten/<str:number>/betaling/", views.payment, name="payment"),
    path(
        "klanten/<str:number>/inlogaccount/genereren/",
        views.account_generate,
        name="account_generate",
    ),
    path("klanten/<str:number>/inlogaccount/koppelen/", views.account_link, name="account_link"),
    path(
        "klanten/<str:number>/inlogaccount/vergeten/", views.account_forget, name="account_forget"
    ),
    path(
        "klanten/<str:number>/inlogaccount/opnieuw-versturen/",
        views.account_resend,
        name="account_resend",
    ),
    path(
        "klanten/<str:number>/inlogaccount/e-mail-wijzigen/",
        views.account_email_change,
        name="account_email_change",
    ),
    path(
        "klanten/<str:number>/abonnementen/<int:pk>/verlengen/",
        year.membership_renew_view,
        name="membership_renew",
    ),
    path(
        "klanten/<str:number>/abonnementen/<int:pk>/opzeggen/",
        year.membership_cancel_view,
        name="membership_cancel",
    ),
    path(
        "klanten/<str:number>/abonnementen/<int:pk>/wijzigen/",
        year.membership_change_view,
        name="membership_change",
    ),
    path("klanten/<str:number>/boekingen/<int:pk>/storno/", year.line_storno_view, name="storno"),
    path("klanten/<str:number>/terugbetaling/", year.refund_view, name="refund"),
    path("klanten/<str:number>/kwijtschelden/", year.write_off_view, name="write_off"),
    path(
        "klanten/<str:number>/machtigingen/nieuw/",
        mandates.mandate_create_view,
        name="mandate_create",
    ),
    path(
        "klanten/<str:number>/machtigingen/<int:pk>/intrekken/",
        mandates.mandate_withdraw_view,
        name="mandate_withdraw",
    ),
    path(
        "klanten/<str:number>/machtigingen/<int:pk>/activeren/",
        mandates.mandate_reactivate_view,
        name="mandate_reactivate",
    ),
]

# Financieel (bieb.counter.finance): open amounts, the day's kasopmaak, the renewal runs.
urlpatterns += [
    path("financieel/", finance.open_amounts_page, name="finance_open"),
    path("financieel/export.csv", finance.open_amounts_csv, name="finance_open_csv"),
    path("financieel/kasopmaak/", finance.cash_page, name="finance_cash"),
    path("financieel/verlengruns/", finance.runs_page, name="finance_runs"),
    path("financieel/verlengruns/<int:pk>/", finance.run_page, name="finance_run"),
    # Automatische incasso (bieb.counter.incasso): the files for the bank and its returns.
    path("financieel/incasso/", incasso.incasso_page, name="finance_incasso"),
    path("financieel/incasso/bestanden-maken/", incasso.files_make, name="finance_files_make"),
    path(
        "financieel/incasso/openstaand/",
        incasso.open_amounts_plan,
        name="finance_open_amounts_plan",
    ),
    path(
        "financieel/incasso/<int:pk>/bestand.xml",
        incasso.batch_download,
        name="finance_batch_download",
    ),
    path("financieel/incasso/<int:pk>/verstuurd/", incasso.batch_sent, name="finance_batch_sent"),
    path(
        "financieel/incasso/terugboekingen/",
        incasso.returns_upload,
        name="finance_returns_upload",
    ),
    path(
        "financieel/incasso/terugboekingen/<int:pk>/",
        incasso.return_file_page,
        name="finance_return_file",
    ),
    path(
        "financieel/incasso/terugboekingen/<int:pk>/<int:item>/afgehandeld/",
        incasso.return_item_handled,
        name="finance_return_handled",
    ),
]

# Statistiek (bieb.counter.statistics): the library's figures, for staff with the statistics role.
urlpatterns += [path("statistiek/", statistics.statistics_page, name="statistics")]
