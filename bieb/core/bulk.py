"""Writing many new rows of one model at once, for the jobs that write tens of thousands (the
renewal run and its mails).

`bulk_insert` is `bulk_create` for plain new rows: the instances get their primary keys. On
PostgreSQL the rows go in with `COPY`, their ids drawn from the table's sequence first; that
skips Django building multi-row `INSERT`s (a prepared value per field per row) and the server
parsing them, which was a third of the renewal run. Elsewhere (SQLite) it is `bulk_create`.

Only fields whose Python value the database driver writes as it is are copied (text, numbers,
decimals, dates, aware datetimes, booleans, foreign keys); a model with any other field goes
through `bulk_create`. No signals are sent, as with `bulk_create`. Constraints are the
database's: a violated unique key fails the whole statement, as it would the `INSERT`.
"""

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.utils import timezone
from psycopg import sql

M = TypeVar("M", bound=models.Model)

# Fields whose attribute value psycopg adapts as Django would store it.
_COPYABLE = (
    models.AutoField,
    models.BigAutoField,
    models.BooleanField,
    models.CharField,  # also EmailField, SlugField
    models.DateField,  # also DateTimeField
    models.DecimalField,
    models.ForeignKey,  # also OneToOneField: the attname is the id
    models.IntegerField,  # also the Positive*, Small and Big variants
    models.TextField,
)


def _copyable(model: type[models.Model]) -> bool:
    return all(isinstance(f, _COPYABLE) for f in model._meta.concrete_fields)


def bulk_insert(model: type[M], objs: Sequence[M]) -> list[M]:
    """Insert the new (unsaved, pk-less) `objs` and set their primary keys."""
    objs = list(objs)
    if not objs:
        return objs
    if connection.vendor != "postgresql" or not _copyable(model):
        return model._default_manager.bulk_create(objs)
    meta = model._meta
    pk = meta.pk
    if pk is None:  # every concrete model has one; for the type checker
        raise TypeError(f"{model.__name__} has no primary key")
    fields = list(meta.concrete_fields)
    now = timezone.now()
    stamped = [
        f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    table = meta.db_table
    # Errors as Django's own (IntegrityError for a violated key), not psycopg's.
    with connection.cursor() as wrapper, connection.wrap_database_errors:
        cursor: Any = wrapper.cursor  # the psycopg cursor: COPY is not in Django's API
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        for obj, new_id in zip(objs, ids, strict=True):
            setattr(obj, pk.attname, new_id)
            for f in stamped:
                setattr(obj, f.attname, now)
        columns: list[sql.Composable] = [sql.Identifier(str(f.column)) for f in fields]
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(columns)
        )
        attnames = [f.attname for f in fields]
        with cursor.copy(statement) as copy:
            for obj in objs:
                copy.write_row([getattr(obj, name) for name in attnames])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def bulk_set(model: type[models.Model], field: str, values: dict[int, Any]) -> int:
    """Set one column of many rows, each to its own value, by primary key: one statement per
    thousand rows that joins the rows to their values (not a CASE per row, as `bulk_update`
    builds). `values` maps primary key to value; the values are of one column type."""
    if not values:
        return 0
    meta = model._meta
    column = meta.get_field(field).column  # type: ignore[union-attr]
    pk = meta.pk
    if pk is None:
        raise TypeError(f"{model.__name__} has no primary key")
    items = list(values.items())
    count = 0
    with connection.cursor() as cursor:
        for start in range(0, len(items), 1000):
            part = items[start : start + 1000]
            rows = ", ".join(["(%s, %s)"] * len(part))
            # SQLite names a VALUES list's columns column1, column2 and takes no aliases.
            names, key, value = (
                ("v(id, value)", "v.id", "v.value")
                if connection.vendor == "postgresql"
                else ("v", "v.column1", "v.column2")
            )
            cursor.execute(
                f'UPDATE "{meta.db_table}" SET "{column}" = {value} '  # noqa: S608
                f'FROM (VALUES {rows}) AS {names} WHERE "{meta.db_table}"."{pk.column}" = {key}',
                [x for pair in part for x in pair],
            )
            count += cursor.rowcount
    return count
