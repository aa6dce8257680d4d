"""Every membership registered before the membership year existed becomes one period, booked
in full as the ledger shows it; its fee and discount lines hang on that period. The rights run as
they did before: an active membership through its valid-through date."""

from decimal import Decimal

from django.db import migrations
from django.db.models import Sum


def forwards(apps, schema_editor):
    Membership = apps.get_model("customers", "Membership")
    MembershipPeriod = apps.get_model("customers", "MembershipPeriod")
    LedgerLine = apps.get_model("customers", "LedgerLine")
    for membership in Membership.objects.iterator(chunk_size=2000):
        lines = LedgerLine.objects.filter(membership_id=membership.pk)
        fee = lines.filter(kind="abonnementskosten").aggregate(s=Sum("amount"))["s"] or Decimal(0)
        discount = -(lines.filter(kind="korting").aggregate(s=Sum("amount"))["s"] or Decimal(0))
        period = MembershipPeriod.objects.create(
            library_id=membership.library_id,
            membership_id=membership.pk,
            subscription_type_id=membership.subscription_type_id,
            tariff_id=membership.tariff_id,
            discount_id=membership.discount_id,
            start=membership.start_date,
            end=membership.valid_through,
            fee=fee,
            discount_amount=min(discount, fee),
            state="geboekt",
            booked_at=membership.created_at,
        )
        lines.filter(kind__in=["abonnementskosten", "korting"]).update(period_id=period.pk)
        if membership.status == "actief":
            membership.rights_through = membership.valid_through
            membership.save(update_fields=["rights_through"])


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_membership_year")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
