from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models


class User(AbstractUser):
    """A staff member of a library (counter, library admin) or a national operator (no library)."""

    library = models.ForeignKey(
        "libraries.Library",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name="bibliotheek",
    )
    branch = models.ForeignKey(
        "libraries.Branch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="standaardvestiging",
    )

    class Meta(AbstractUser.Meta):
        verbose_name = "medewerker"
        verbose_name_plural = "medewerkers"
        # Roles, given in the admin (to a user or a group). Both are on top of the counter.
        permissions = [
            (
                "finance",
                "Financieel: correcties (storno, terugbetaling, kwijtschelding) en overzichten",
            ),
            ("statistics", "Statistiek bekijken"),
        ]

    @property
    def has_finance(self) -> bool:
        return self.has_perm("staff.finance")

    @property
    def has_statistics(self) -> bool:
        return self.has_perm("staff.statistics")

    def clean(self) -> None:
        super().clean()
        if self.branch is not None and self.branch.library_id != self.library_id:
            raise ValidationError(
                {"branch": "Deze vestiging hoort niet bij de bibliotheek van de medewerker."}
            )
