"""The background task of the KB outbox. Thin: it takes a call id and calls the service, under
the id of the request that queued the call (bieb.core.requestid)."""

from django_tasks import task

from bieb.core.requestid import request_id_bound


@task()
def kb_call_run_task(call_id: int, request_id: str = "") -> str:
    # Imported here because the services enqueue this task.
    from bieb.kboutbox.services import kb_call_run

    with request_id_bound(request_id):
        return kb_call_run(call_id=call_id).state
