"""The membership year's periodic job: the renewal run of today, for every library."""

import datetime as dt

from bieb.core.periodic import periodic_job


@periodic_job(every=dt.timedelta(hours=1))
def renewals_daily() -> object:
    """Hourly, so that a day missed (downtime) is caught up soon; a second run of the same day
    books and mails nothing twice (bieb.customers.renewals)."""
    from bieb.customers.renewals import renewals_run_all

    runs = renewals_run_all(started_by="periodiek")
    return {r.library.code: r.booked + r.offered for r in runs}
