"""The membership year's periodic job: the renewal run of today, for every library."""

import datetime as dt

from bieb.core.periodic import periodic_job


# The national run takes minutes; its lease (one server at a time) allows for hours.
@periodic_job(every=dt.timedelta(hours=1), lease=dt.timedelta(hours=6))
def renewals_daily() -> object:
    """Looks every hour, runs once a day per library: a day missed (downtime) is caught up
    within the hour. A second run of the same day would book and mail nothing twice anyway
    (bieb.customers.renewals); `bieb renewals --as-of` runs a past day on purpose."""
    from django.conf import settings

    from bieb.customers.renewals import renewals_run_all

    runs = renewals_run_all(
        started_by="periodiek", skip_done=True, workers=settings.BIEB_RENEWAL_WORKERS
    )
    return {r.library.code: r.booked + r.offered for r in runs}
