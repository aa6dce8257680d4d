"""Background tasks of the outbox. Thin: they take a message id and call a service, under the
id of the request that queued the mail (bieb.core.requestid), so its log lines belong to it."""

from django_tasks import task

from bieb.core.requestid import request_id_bound


@task()
def mail_send_task(message_id: int, request_id: str = "") -> str:
    # Imported here because the services enqueue this task.
    from bieb.mail.services import mail_send

    with request_id_bound(request_id):
        return mail_send(message_id=message_id).status


@task()
def mail_send_many_task(message_ids: list[int], request_id: str = "") -> int:
    from bieb.mail.services import mail_send

    with request_id_bound(request_id):
        return sum(mail_send(message_id=pk).status == "sent" for pk in message_ids)
