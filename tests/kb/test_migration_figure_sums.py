"""Migration kb 0013: the daily figures computed before it are summed into their months and
over the libraries."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# On PostgreSQL only, as the other tests that take migrations back and forth.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

BEFORE = [("kb", "0012_statistics")]
AFTER = [("kb", "0013_figure_sums")]


def test_the_daily_figures_so_far_are_summed_per_month_and_over_the_libraries() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    DailyFigure = executor.loader.project_state(BEFORE).apps.get_model("kb", "DailyFigure")
    for day, library, count in [
        (dt.date(2026, 10, 31), "bind", 3),
        (dt.date(2026, 11, 1), "bind", 4),
        (dt.date(2026, 11, 30), "bind", 5),
        (dt.date(2026, 11, 30), "oost", 6),
    ]:
        DailyFigure.objects.create(
            day=day, metric="created", library_code=library, origin="balie", count=count
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    MonthlyFigure = apps.get_model("kb", "MonthlyFigure")
    NationalFigure = apps.get_model("kb", "NationalFigure")
    assert set(MonthlyFigure.objects.values_list("month", "library_code", "count")) == {
        (dt.date(2026, 10, 1), "bind", 3),
        (dt.date(2026, 11, 1), "bind", 9),
        (dt.date(2026, 11, 1), "oost", 6),
    }
    assert set(NationalFigure.objects.values_list("day", "origin", "count")) == {
        (dt.date(2026, 10, 31), "balie", 3),
        (dt.date(2026, 11, 1), "balie", 4),
        (dt.date(2026, 11, 30), "balie", 11),
    }
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
