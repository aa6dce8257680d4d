"""The library side's periodic job for a login service elsewhere: its event feed."""

import datetime as dt

from bieb.core.periodic import periodic_job


@periodic_job(every=dt.timedelta(minutes=1), lease=dt.timedelta(minutes=10))
def kb_events_poll() -> object:
    """Every minute: what the KB tells of the libraries' accounts (BIEB_ROLE=library only; in
    process its signal tells at once)."""
    from bieb.libraries.kb_events import kb_events_read

    return kb_events_read()
