"""The library side's retention, daily (`bieb runperiodic`) and in `bieb retention`."""

import datetime as dt

from bieb.core.periodic import periodic_job
from bieb.core.retention import retention_part


@retention_part(name="customers")
def retention_customers(*, today: dt.date, dry_run: bool) -> list[str]:
    """Per library: customers anonymised and deleted, debit files emptied."""
    from bieb.retention.services import retention_run, retention_summary

    return [
        retention_summary(result, dry_run=dry_run)
        for result in retention_run(today=today, dry_run=dry_run)
    ]


@periodic_job(every=dt.timedelta(days=1))
def retention_customers_daily() -> object:
    """Anonymise and delete what the retention rule says, once a day. A run finds only what
    the calendar moved past the limits since the last one; a second run finds nothing."""
    from bieb.retention.services import retention_run

    return {
        r.library.code: {"anonymised": r.anonymised, "deleted": r.deleted}
        for r in retention_run()
        if r.changed
    }
