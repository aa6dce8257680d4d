"""The payments' periodic job, run by `bieb runperiodic`."""

import datetime as dt

from bieb.core.periodic import periodic_job
from bieb.payments.providers.demo import demo_checkouts_expire
from bieb.payments.services import payments_check_unsettled


@periodic_job(every=dt.timedelta(minutes=5))
def payments_check() -> object:
    """Payments whose webhook is overdue are looked up at their provider (a lost webhook must
    not leave a paid member waiting); demo payments left open expire."""
    from django.conf import settings

    expired = demo_checkouts_expire() if settings.DEMO else 0
    return {**payments_check_unsettled(), "demo_expired": expired}
