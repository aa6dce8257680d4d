from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('kb', '0011_account_retention_warning'),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyFigure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='dag')),
                ('metric', models.CharField(choices=[('created', 'aangemaakt'), ('activated', 'geactiveerd'), ('purged', 'opgeruimd'), ('logins', 'ingelogd'), ('made_activated', 'op tijd geactiveerd'), ('made_expired', 'ongebruikt verlopen')], max_length=20, verbose_name='cijfer')),
                ('library_code', models.CharField(blank=True, default='', max_length=30, verbose_name='bibliotheek')),
                ('origin', models.CharField(blank=True, default='', max_length=10, verbose_name='aangemaakt via')),
                ('bucket', models.CharField(blank=True, default='', max_length=10, verbose_name='groep')),
                ('count', models.PositiveIntegerField(verbose_name='aantal')),
            ],
            options={
                'verbose_name': 'dagcijfer',
                'verbose_name_plural': 'dagcijfers',
                'indexes': [models.Index(fields=['metric', 'day'], name='kb_figure_read')],
                'constraints': [models.UniqueConstraint(fields=('day', 'metric', 'library_code', 'origin', 'bucket'), name='kb_figure_once', violation_error_message='Voor die dag is er al een cijfer met deze indeling.')],
            },
        ),
    ]
