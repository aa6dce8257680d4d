"""The outbox's periodic job, run by `bieb runperiodic`."""

import datetime as dt

from bieb.core.periodic import periodic_job
from bieb.mail.services import mail_enqueue_due


@periodic_job(every=dt.timedelta(minutes=1))
def mail_outbox_retry() -> object:
    """Send the queued mail that is due: retries, and any whose task after commit was lost."""
    return f"{mail_enqueue_due()} enqueued"
