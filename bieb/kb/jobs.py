import datetime as dt

from oauth2_provider.models import clear_expired

from bieb.core.periodic import periodic_job
from bieb.core.retention import retention_part
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


@periodic_job(every=dt.timedelta(hours=6))
def kb_forget_old_sign_ins_and_held_names() -> object:
    """Sign-ins older than the member's list shows (90 days) are removed, and usernames whose
    quarantine is over are forgotten (they are free already)."""
    from bieb.kb.services import usernames_held_prune
    from bieb.kb.signins import sign_ins_prune

    return {"sign_ins": sign_ins_prune(), "held_usernames": usernames_held_prune()}


@periodic_job(every=dt.timedelta(hours=6))
def kb_api_prune() -> object:
    """The KB API's events older than 90 days, stored answers of idempotent calls older than
    7 days and its call log older than a year are removed."""
    from django.utils import timezone

    from bieb.kb.api.events import library_events_prune
    from bieb.kb.api.idempotency import idempotent_calls_prune
    from bieb.kb.api.models import ApiCall

    calls, _ = ApiCall.objects.filter(at__lt=timezone.now() - API_CALL_RETENTION).delete()
    return {
        "events": library_events_prune(),
        "idempotent_calls": idempotent_calls_prune(),
        "api_calls": calls,
    }


# How long the API's call log is kept (the audit of what library systems did).
API_CALL_RETENTION = dt.timedelta(days=365)


@retention_part(name="kb")
def kb_retention(*, today: dt.date, dry_run: bool) -> list[str]:
    """Login accounts unused for years without a valid membership: warned, later deleted."""
    from bieb.kb.retention import accounts_retention_run, retention_summary

    result = accounts_retention_run(today=today, dry_run=dry_run)
    return [retention_summary(result, dry_run=dry_run)]


@periodic_job(every=dt.timedelta(days=1))
def kb_retention_daily() -> object:
    """The retention rule of the login service, once a day (bieb.kb.retention)."""
    from bieb.kb.retention import accounts_retention_run

    result = accounts_retention_run()
    return {"warned": result.warned, "deleted": result.deleted, "cleared": result.cleared}


@periodic_job(every=dt.timedelta(hours=1))
def kb_statistics_daily() -> object:
    """The statistics' daily figures (bieb.kb.statistics) of today, anew every hour, and of the
    last days, whose accounts' activation links may have run out since."""
    from django.utils import timezone

    from bieb.kb.statistics.aggregate import RECENT_DAYS, kb_figures_range_compute

    today = timezone.localdate()
    done = kb_figures_range_compute(start=today - dt.timedelta(days=RECENT_DAYS), end=today)
    return {str(day): rows for day, rows in done.items()}
