"""Background tasks of payments. Thin: JSON-safe arguments, then a service."""

from django_tasks import task


@task()
def demo_webhook_task(checkout_id: str, attempt: int = 1) -> str:
    from bieb.payments.providers.demo import demo_webhook_deliver

    return demo_webhook_deliver(checkout_id=checkout_id, attempt=attempt)
