"""A sign-up on its way to being paid: what the member chose and typed, kept only from the
moment they press "Betalen" until the payment settles (or the sign-up expires)."""

from django.db import models

from bieb.customers.models import Customer, Membership
from bieb.libraries.models import Branch, Library, SubscriptionType


class SignupStatus(models.TextChoices):
    AWAITING_PAYMENT = "wacht_op_betaling", "wacht op betaling"
    COMPLETED = "voltooid", "voltooid"


class Signup(models.Model):
    """The server's copy of a sign-up, for the payment's webhook (which has no session).

    The customer and the membership (and the direct-debit mandate, if chosen) are created from
    it only when the payment succeeds; the personal details are then removed from here. A
    sign-up whose payment never succeeds is deleted by the clean-up job once it has expired.
    """

    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="+", verbose_name="bibliotheek"
    )
    registration_key = models.UUIDField("sleutel", unique=True, editable=False)
    subscription_type = models.ForeignKey(
        SubscriptionType, on_delete=models.PROTECT, related_name="+", verbose_name="abonnement"
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="+", verbose_name="vestiging"
    )
    # The member's login account by its stable id (the OIDC `sub` of their sign-in).
    login_account_id = models.UUIDField("inlogaccount")
    details = models.JSONField("gegevens", default=dict, blank=True)
    # The member's choice of direct debit for the following years (`SignupMandate`): the
    # account, the consent and its evidence; empty when not chosen. Made into a mandate with the
    # customer, then removed from here.
    mandate = models.JSONField("machtiging", default=dict, blank=True)
    # The ID token of the member's sign-in at the KB: their consent to link the new membership
    # to that account, which a KB elsewhere wants (bieb.kb.consent takes it for 8 days).
    # Handed to the registration's call when the payment succeeds, then removed from here.
    id_token = models.TextField("aanmelding bij de KB", blank=True, default="")
    on_date = models.DateField("inschrijfdatum")
    amount = models.DecimalField("bedrag", max_digits=10, decimal_places=2)
    status = models.CharField(
        "status",
        max_length=20,
        choices=SignupStatus.choices,
        default=SignupStatus.AWAITING_PAYMENT,
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="klant",
    )
    membership = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="lidmaatschap",
    )
    created_at = models.DateTimeField("begonnen op", auto_now_add=True)
    updated_at = models.DateTimeField("gewijzigd op", auto_now=True)
    expires_at = models.DateTimeField("verloopt op", db_index=True)

    class Meta:
        verbose_name = "online inschrijving"
        verbose_name_plural = "online inschrijvingen"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.library.code} {self.login_account_id} {self.get_status_display()}"
