from django.apps import AppConfig


class RetentionConfig(AppConfig):
    """The privacy rule on the library side: personal data of ended memberships is anonymised
    after the library's retention period, financial records deleted after theirs. No tables of
    its own; it works on the customer administration, direct debit, payments and sign-up."""

    name = "bieb.retention"
    label = "retention"
    verbose_name = "Bewaartermijnen"

    def ready(self) -> None:
        from bieb.retention import periodic  # noqa: F401  (the daily job and `bieb retention`)
