"""A trigram index for finding a part from inside an e-mail address (`example`) at the counter
(customers.selectors._by_email_part): GIN on (library, lower(email)) with gin_trgm_ops, so one
index narrows by library and by the typed part at once (btree_gin gives GIN the integer
column). PostgreSQL only: on SQLite this migration does nothing and the search scans."""

from django.db import migrations

INDEX = "customer_search_email_part"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Both are trusted extensions (PostgreSQL 13+): a database owner may create them.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON customers_customer "
        "USING gin (library_id, lower(email) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_customer_login_account_id")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
