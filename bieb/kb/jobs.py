import datetime as dt

from bieb.core.periodic import periodic_job
from bieb.kb.services import accounts_purge_expired
from bieb.kb.throttle import attempts_prune


@periodic_job(every=dt.timedelta(minutes=5))
def kb_purge_expired_accounts() -> object:
    """Never-activated accounts are removed once their activation link has expired."""
    return {
        "purged": accounts_purge_expired(),
        "attempts_pruned": attempts_prune(older_than=dt.timedelta(days=1)),
    }
