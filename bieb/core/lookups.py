"""`field__any=[...]`: membership of a long list of values, for the jobs that filter by a
thousand ids at a time (bieb.retention).

Django's `__in` writes one `%s` parameter per value; with a thousand ids in each of some twenty
statements per batch, compiling and parsing those parameters costs more Python than the
statements take in the database. On PostgreSQL `__any` sends the list as one array parameter,
`field = ANY(%s)` (an index serves it as it serves IN); elsewhere, and for a subquery, it is
`__in`. Registered on every field, and on foreign keys (`customer_id__any=ids`).
"""

from typing import Any

from django.db.models import Field
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


class _Any:
    def as_postgresql(self, compiler: Any, connection: Any) -> Any:
        lookup: Any = self
        if not lookup.rhs_is_direct_value() or isinstance(lookup.lhs, tuple):
            return lookup.as_sql(compiler, connection)  # as IN
        lhs, lhs_params = lookup.process_lhs(compiler, connection)
        values = [value for value in lookup.rhs if value is not None]
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


@Field.register_lookup
class AnyOf(_Any, In):
    lookup_name = "any"


@ForeignObject.register_lookup
class RelatedAnyOf(_Any, RelatedIn):
    lookup_name = "any"
