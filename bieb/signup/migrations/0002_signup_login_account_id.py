"""A sign-up refers to the member's login account by its stable id instead of its username.
A sign-up is made only for an active account (which the purge never deletes), so its username
still leads to that account; a sign-up whose account is gone is of no use and is removed."""

from django.apps import apps as global_apps
from django.db import migrations, models

# The login service's tables exist only where its app is installed (BIEB_ROLE all or kb). A
# library installation of its own (BIEB_ROLE=library) is newer than this change: nothing to move.
KB = global_apps.is_installed("bieb.kb")


def usernames_to_ids(apps, schema_editor):
    if not KB:
        return
    Signup = apps.get_model("signup", "Signup")
    LoginAccount = apps.get_model("kb", "LoginAccount")
    ids = dict(LoginAccount.objects.values_list("username", "id"))
    for signup in Signup.objects.iterator():
        account_id = ids.get(signup.login_username)
        if account_id is None:
            signup.delete()
        else:
            signup.login_account_id = account_id
            signup.save(update_fields=["login_account_id"])


def ids_to_usernames(apps, schema_editor):
    if not KB:
        return
    Signup = apps.get_model("signup", "Signup")
    LoginAccount = apps.get_model("kb", "LoginAccount")
    names = dict(LoginAccount.objects.values_list("id", "username"))
    for signup in Signup.objects.iterator():
        signup.login_username = names.get(signup.login_account_id, "")
        signup.save(update_fields=["login_username"])


class Migration(migrations.Migration):
    dependencies = [("signup", "0001_initial")] + ([("kb", "0003_attempts_moved_to_core")] if KB else [])

    operations = [
        migrations.AddField(
            model_name="signup",
            name="login_account_id",
            field=models.UUIDField(null=True, verbose_name="inlogaccount"),
        ),
        migrations.AlterField(
            model_name="signup",
            name="login_username",
            field=models.CharField(
                blank=True, default="", max_length=80, verbose_name="gebruikersnaam inlogaccount"
            ),
        ),
        migrations.RunPython(usernames_to_ids, ids_to_usernames),
        migrations.AlterField(
            model_name="signup",
            name="login_account_id",
            field=models.UUIDField(verbose_name="inlogaccount"),
        ),
        migrations.RemoveField(model_name="signup", name="login_username"),
    ]
