from django.db import migrations, models
from django.db.models.functions import Coalesce


def announced_already(apps, schema_editor):
    # Clones that are ready now were told about when they became ready: a preview fetched again later
    # must not announce them a second time.
    Clone = apps.get_model("clones", "Clone")
    Clone.objects.filter(status="ready").update(first_ready_at=Coalesce("finished_at", "created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("clones", "0017_preview_duration"),
    ]

    operations = [
        migrations.AddField(
            model_name="clone",
            name="first_ready_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="first ready"),
        ),
        migrations.RunPython(announced_already, migrations.RunPython.noop),
    ]
