"""Background tasks of payments. Thin: JSON-safe arguments, then a service, under the id of
the request that started it (bieb.core.requestid)."""

from django_tasks import task

from bieb.core.requestid import request_id_bound


@task()
def demo_webhook_task(checkout_id: str, attempt: int = 1, request_id: str = "") -> str:
    from bieb.payments.providers.demo import demo_webhook_deliver

    with request_id_bound(request_id):
        return demo_webhook_deliver(checkout_id=checkout_id, attempt=attempt)
