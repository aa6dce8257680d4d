import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('libraries', '0007_kb_event_cursor'),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyFigure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='dag')),
                ('metric', models.CharField(choices=[('new', 'nieuwe abonnementen'), ('active', 'actieve leden'), ('cancelled', 'opzeggingen'), ('deregistered', 'uitgeschreven (niet betaald)'), ('not_renewed', 'niet verlengd'), ('renewal_paid', 'verlengingen betaald'), ('ledger', 'grootboek'), ('account_forgotten', 'inlogaccount vergeten'), ('account_remade', 'inlogaccount opnieuw aangemaakt')], max_length=20, verbose_name='cijfer')),
                ('channel', models.CharField(blank=True, default='', max_length=10, verbose_name='kanaal')),
                ('subscription', models.CharField(blank=True, default='', max_length=10, verbose_name='abonnement')),
                ('age_band', models.CharField(blank=True, default='', max_length=10, verbose_name='leeftijd')),
                ('method', models.CharField(blank=True, default='', max_length=10, verbose_name='betaalwijze')),
                ('kind', models.CharField(blank=True, default='', max_length=30, verbose_name='soort')),
                ('count', models.PositiveIntegerField(verbose_name='aantal')),
                ('amount', models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name='bedrag')),
                ('library', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='libraries.library', verbose_name='bibliotheek')),
            ],
            options={
                'verbose_name': 'dagcijfer',
                'verbose_name_plural': 'dagcijfers',
                'indexes': [models.Index(fields=['library', 'metric', 'day'], name='statistics_read'), models.Index(fields=['day'], name='statistics_day')],
                'constraints': [models.UniqueConstraint(fields=('library', 'day', 'metric', 'channel', 'subscription', 'age_band', 'method', 'kind'), name='statistics_figure_once', violation_error_message='Deze bibliotheek heeft voor die dag al een cijfer met deze indeling.')],
            },
        ),
    ]
