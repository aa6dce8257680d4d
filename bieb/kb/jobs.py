import datetime as dt

from oauth2_provider.models import clear_expired

from bieb.core.periodic import periodic_job
from bieb.kb.services import accounts_purge_expired


@periodic_job(every=dt.timedelta(minutes=5))
def kb_purge_expired_accounts() -> object:
    """Never-activated accounts are removed once their activation link has expired."""
    result = accounts_purge_expired()
    return {
        "purged": result.deleted,
        "batches": result.batches,
        "longest_batch_ms": round(result.longest * 1000),
    }


@periodic_job(every=dt.timedelta(hours=1))
def kb_clear_expired_tokens() -> object:
    """Expired OpenID Connect grants and tokens are removed (the toolkit's own batched clean-up)."""
    clear_expired()
    return "ok"
