"""The parts of the privacy rule's retention run (`bieb retention`), registered by the apps that
hold the data.

Each part is its own app's business: the library side anonymises and deletes its customers
(`bieb.retention`), the login service warns and deletes its unused accounts (`bieb.kb.retention`).
Neither imports the other; the command (and nothing else in core) runs every part that is
registered here, by name ("customers", then "kb"), and prints the lines each returns. Each part also
has a periodic job of its own (`bieb.core.periodic`), so a host that runs only one side runs
only its part.

A part is a function `run(*, today: date, dry_run: bool) -> list[str]`: what it did (or, with
`dry_run`, would do and did not) on `today`, one Dutch line per subject, for the operator.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class RetentionRun(Protocol):
    def __call__(self, *, today: dt.date, dry_run: bool) -> list[str]: ...


@dataclass(frozen=True)
class RetentionPart:
    name: str
    run: RetentionRun


RETENTION_PARTS: dict[str, RetentionPart] = {}


def retention_part(*, name: str) -> Callable[[RetentionRun], RetentionRun]:
    def register(func: RetentionRun) -> RetentionRun:
        RETENTION_PARTS[name] = RetentionPart(name=name, run=func)
        return func

    return register
