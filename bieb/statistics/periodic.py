"""The statistics' periodic job, run by `bieb runperiodic`."""

import datetime as dt

from bieb.core.dates import local_today, start_of_day
from bieb.core.periodic import periodic_job


@periodic_job(every=dt.timedelta(hours=1))
def statistics_daily() -> object:
    """Today's figures anew every hour (the page is at most an hour behind), and yesterday's
    once more in the first run that succeeds after midnight: what happened in its last hour,
    and its final count of active members. Later runs leave yesterday alone (at national
    scale a day takes seconds to tens of seconds)."""
    from bieb.core.models import JobRun
    from bieb.statistics.aggregate import figures_day_compute

    today = local_today()
    days = [today]
    final = JobRun.objects.filter(
        name="statistics_daily", ok=True, started_at__gte=start_of_day(today)
    ).exists()
    if not final:
        days.insert(0, today - dt.timedelta(days=1))
    return {str(day): figures_day_compute(day=day) for day in days}
