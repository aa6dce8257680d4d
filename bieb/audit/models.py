from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One row per state change made by staff: who did what to which record, and when."""

    at = models.DateTimeField("tijdstip", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="medewerker",
    )
    actor_name = models.CharField("gebruikersnaam medewerker", max_length=150, blank=True)
    library = models.ForeignKey(
        "libraries.Library",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="bibliotheek",
    )
    action = models.CharField("actie", max_length=60, db_index=True)
    object_type = models.CharField("soort object", max_length=60, blank=True)
    object_id = models.CharField("object", max_length=60, blank=True)
    data = models.JSONField("gegevens", default=dict, blank=True)

    class Meta:
        verbose_name = "auditregel"
        verbose_name_plural = "auditregels"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"
