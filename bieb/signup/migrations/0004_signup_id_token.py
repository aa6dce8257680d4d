from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("signup", "0003_signup_mandate"),
    ]

    operations = [
        migrations.AddField(
            model_name="signup",
            name="id_token",
            field=models.TextField(blank=True, default="", verbose_name="aanmelding bij de KB"),
        ),
    ]
