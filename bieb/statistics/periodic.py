"""The statistics' periodic job, run by `bieb runperiodic`."""

import datetime as dt

from bieb.core.dates import local_today
from bieb.core.periodic import periodic_job


@periodic_job(every=dt.timedelta(hours=1))
def statistics_daily() -> object:
    """Today's figures anew every hour (the page is at most an hour behind), and yesterday's
    once more: what happened in its last hour, and its final count of active members."""
    from bieb.statistics.aggregate import figures_day_compute

    today = local_today()
    return {str(day): figures_day_compute(day=day) for day in (today - dt.timedelta(days=1), today)}
