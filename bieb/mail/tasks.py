"""Background tasks of the outbox. Thin: they take a message id and call a service."""

from django_tasks import task


@task()
def mail_send_task(message_id: int) -> str:
    # Imported here because the services enqueue this task.
    from bieb.mail.services import mail_send

    return mail_send(message_id=message_id).status


@task()
def mail_send_many_task(message_ids: list[int]) -> int:
    from bieb.mail.services import mail_send

    return sum(mail_send(message_id=pk).status == "sent" for pk in message_ids)
