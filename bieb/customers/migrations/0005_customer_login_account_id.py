"""The customer refers to its login account by the account's stable id (the OIDC `sub`) instead
of its username. A customer's account is found through the login service's own link of this
customer's membership (library code + customer number), not through the username: a username
may have been freed by the purge and taken by someone else since. A customer whose username no
longer leads to a linked account is marked lapsed ("verlopen" at the counter)."""

from django.apps import apps as global_apps
from django.db import migrations, models

# The login service's tables exist only where its app is installed (BIEB_ROLE all or kb). A
# library installation of its own (BIEB_ROLE=library) is newer than this change: nothing to move.
KB = global_apps.is_installed("bieb.kb")


def usernames_to_ids(apps, schema_editor):
    if not KB:
        return
    Customer = apps.get_model("customers", "Customer")
    LinkedMembership = apps.get_model("kb", "LinkedMembership")
    links = {
        (code, number): account_id
        for code, number, account_id in LinkedMembership.objects.values_list(
            "library_code", "customer_number", "account_id"
        ).iterator()
    }
    customers = Customer.objects.exclude(login_username="").select_related("library")
    for customer in customers.iterator():
        account_id = links.get((customer.library.code, customer.number))
        if account_id is not None:
            customer.login_account_id = account_id
        else:
            customer.login_account_lapsed = True
        customer.save(update_fields=["login_account_id", "login_account_lapsed"])


def ids_to_usernames(apps, schema_editor):
    if not KB:
        return
    Customer = apps.get_model("customers", "Customer")
    LoginAccount = apps.get_model("kb", "LoginAccount")
    names = dict(LoginAccount.objects.values_list("id", "username"))
    for customer in Customer.objects.exclude(login_account_id=None).iterator():
        customer.login_username = names.get(customer.login_account_id, "")
        customer.save(update_fields=["login_username"])


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_search_indexes")] + ([("kb", "0003_attempts_moved_to_core")] if KB else [])

    operations = [
        migrations.AddField(
            model_name="customer",
            name="login_account_id",
            field=models.UUIDField(
                blank=True, db_index=True, null=True, verbose_name="inlogaccount"
            ),
        ),
        migrations.AddField(
            model_name="customer",
            name="login_account_lapsed",
            field=models.BooleanField(default=False, verbose_name="inlogaccount verlopen"),
        ),
        migrations.RunPython(usernames_to_ids, ids_to_usernames),
        migrations.RemoveField(model_name="customer", name="login_username"),
    ]
