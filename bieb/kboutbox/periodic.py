"""The KB outbox's periodic job, run by `bieb runperiodic`."""

import datetime as dt

from bieb.core.periodic import periodic_job
from bieb.kboutbox.services import kb_calls_run_due


@periodic_job(every=dt.timedelta(minutes=1), lease=dt.timedelta(minutes=5))
def kb_outbox_retry() -> object:
    """Make the calls to the KB that are due: retries after the KB could not be reached, and
    any whose task after commit was lost."""
    return kb_calls_run_due()


@periodic_job(every=dt.timedelta(days=1))
def kb_outbox_prune() -> object:
    """Calls that are done (or withdrawn) are kept 30 days, refused ones 90: long enough to
    answer "what happened to this account", not longer (they name e-mail addresses)."""
    from bieb.kboutbox.services import kb_calls_prune

    return kb_calls_prune()
