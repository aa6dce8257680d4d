import pytest
from django.apps import apps

from bieb.demo.loader import demo_load
from bieb.libraries.models import Branch, Library, SubscriptionType, Tariff
from bieb.staff.models import User

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of ours, as plain values."""
    tables = {}
    for model in apps.get_models():
        if model._meta.app_label in {"libraries", "staff", "customers", "audit", "kb"}:
            tables[model._meta.label] = list(model.objects.order_by("pk").values_list())
    return tables


def test_demo_has_what_design_names() -> None:
    demo_load()
    bind = Library.objects.get(code="bind")
    assert bind.name == "Bibliotheken Bind"
    assert Branch.objects.get(number="5280").library == bind
    assert Library.objects.filter(code="oost").exists()
    labels = [t.label for t in SubscriptionType.objects.filter(library=bind)]
    assert "0141 Digital only € 42,00 /12 mnd" in labels
    youth = SubscriptionType.objects.get(library=bind, name="Jeugd")
    assert youth.price == 0 and youth.max_age == 17
    assert str(Tariff.objects.get(library=bind, code="0001")) == "0001 - gratis"
    balie = User.objects.get(username="balie")
    assert (balie.library, balie.branch.number if balie.branch else None) == (bind, "5280")
    assert balie.check_password("demo-balie")
    assert User.objects.get(username="balie-oost").library.code == "oost"  # type: ignore[union-attr]


def test_loading_the_demo_twice_changes_nothing() -> None:
    demo_load()
    first = snapshot()
    demo_load()
    assert snapshot() == first


def test_the_demo_repairs_a_changed_subscription() -> None:
    demo_load()
    SubscriptionType.objects.filter(code="0141").update(price=1)
    demo_load()
    assert {t.price for t in SubscriptionType.objects.filter(code="0141")} == {42}
