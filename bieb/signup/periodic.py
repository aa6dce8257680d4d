"""The sign-up's periodic job, run by `bieb runperiodic`."""

import datetime as dt

from bieb.core.periodic import periodic_job
from bieb.signup.services import signup_session_states_remove, signups_expired_remove


@periodic_job(every=dt.timedelta(minutes=15))
def signup_remove_expired() -> object:
    """Sign-ups never paid are removed once expired: no customer was made, and the details typed
    go, from the database and from the sessions."""
    return {**signups_expired_remove(), "session_states": signup_session_states_remove()}
