"""`bieb kboutbox`: the library's calls to the KB that are stuck, for operators; `--run` makes
the due ones now, `--retry ID` makes a waiting one due at once."""

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from bieb.kboutbox.selectors import kb_calls_stuck
from bieb.kboutbox.services import kb_call_retry_now, kb_calls_run_due


class Command(BaseCommand):
    help = (
        "Show the calls to the KB that are open longer than --minutes (default 5) or were "
        "refused by the KB; --run makes the due ones now; --retry ID makes one due at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minutes", type=float, default=5.0)
        parser.add_argument("--no-refused", action="store_true", help="only the open ones")
        parser.add_argument("--retry", type=int, action="append", default=[], metavar="ID")
        parser.add_argument("--run", action="store_true", help="make the due calls now")

    def handle(self, *args: Any, **options: Any) -> None:
        for call_id in options["retry"]:
            done = kb_call_retry_now(call_id=call_id)
            self.stdout.write(f"{call_id}: {'due now' if done else 'not waiting (left alone)'}")
        if options["run"]:
            self.stdout.write(f"run: {kb_calls_run_due()}")
        stuck = kb_calls_stuck(
            older_than=dt.timedelta(minutes=options["minutes"]),
            refused=not options["no_refused"],
        )
        rows = list(stuck[:500])
        if not rows:
            self.stdout.write("No stuck calls to the KB.")
            return
        now = timezone.now()
        for call in rows:
            age = int((now - call.created_at).total_seconds() // 60)
            customer = call.customer.number if call.customer else "-"
            nxt = (
                timezone.localtime(call.next_attempt_at).strftime("%d-%m %H:%M")
                if (call.next_attempt_at)
                else "-"
            )
            self.stdout.write(
                f"{call.pk}\t{call.library.code}\t{customer}\t{call.kind}\t{call.state}\t"
                f"attempts={call.attempts}\tage={age}m\tnext={nxt}\t{call.last_error[:160]}"
            )
        if stuck.count() > len(rows):
            self.stdout.write(f"... and {stuck.count() - len(rows)} more")
