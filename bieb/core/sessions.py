"""The site's session store: Django's database sessions, with a change of key written in one
UPDATE inside the caller's transaction (used by the login service's and the counter's logins)."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.db import IntegrityError, router, transaction
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    """Django's database sessions (same table, same data), with a cheaper change of key.

    Django's `cycle_key()` writes at once, in four statements and two commits: it checks that a
    new key is free (SELECT), inserts the session under it (INSERT), reads and deletes the old
    row (SELECT, DELETE); the response then saves the session once more (UPDATE, a third
    commit). Here `cycle_key()` only draws the new key, and the next `save()` moves the old row
    to it: one UPDATE of key and data (an INSERT when there was no old row), in the caller's
    transaction if there is one, so that a login stores its session in the commit that records
    the login. The old key is gone from then on, as with Django's. A later save in the same
    request with nothing changed since (the response's) writes nothing.

    The new key is not looked up first: it is 32 characters from 36 (165 random bits), and the
    primary key still refuses a duplicate (CreateError), so no other session is overwritten.
    """

    def __init__(self, session_key: str | None = None) -> None:
        self._replaces: str | None = None  # the old key, whose row the next save moves
        self._unwritten_key = False  # the current key has no row yet
        self._written = False  # this store saved in this request ...
        self._dirty = False  # ... and was changed after that
        super().__init__(session_key)

    @property
    def modified(self) -> bool:
        return self._modified

    @modified.setter
    def modified(self, value: bool) -> None:
        # Every change of the data goes through `modified = True` (Django's own contract).
        self._modified = value
        self._dirty = self._dirty or value

    def cycle_key(self) -> None:
        data = self._session  # type: ignore[attr-defined]  # loads it, as Django's does
        if self.session_key and not self._unwritten_key:
            self._replaces = self.session_key
        self._session_key = get_random_string(32, VALID_KEY_CHARS)
        self._session_cache = data
        self._unwritten_key = True
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if self._unwritten_key and self.session_key is not None:
            self._write_new_key()
            return
        if self._written and not self._dirty and not must_create:
            return
        super().save(must_create=must_create)
        self._saved()

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None and self._replaces:
            super().delete(self._replaces)  # flushed before it was saved: the old row goes too
            self._replaces = None
        super().delete(session_key)

    def _write_new_key(self) -> None:
        obj = self.create_model_instance(self._get_session())  # type: ignore[attr-defined]
        using = router.db_for_write(self.model, instance=obj)
        try:
            # No savepoint: inside the login's transaction a failure undoes the login as well.
            with transaction.atomic(using=using, savepoint=False):
                # The old row takes the new key: one statement does what DELETE + INSERT did.
                moved = self._replaces and self.model.objects.using(using).filter(
                    session_key=self._replaces
                ).update(
                    session_key=obj.session_key,
                    session_data=obj.session_data,
                    expire_date=obj.expire_date,
                )
                if not moved:
                    obj.save(force_insert=True, using=using)
        except IntegrityError:
            raise CreateError from None
        self._replaces = None
        self._unwritten_key = False
        self._saved()

    def _saved(self) -> None:
        self._written = True
        self._dirty = False
