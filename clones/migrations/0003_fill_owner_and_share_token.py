import secrets

from django.conf import settings
from django.db import migrations


def fill(apps, schema_editor):
    # Clones made before accounts existed get an owner (the first superuser, else a disabled
    # placeholder account) and each its own share token.
    Clone = apps.get_model("clones", "Clone")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    orphans = Clone.objects.filter(owner__isnull=True)
    if orphans.exists():
        owner = User.objects.filter(is_superuser=True).order_by("pk").first()
        if owner is None:
            owner, _ = User.objects.get_or_create(username="legacy-owner", defaults={"is_active": False})
        orphans.update(owner=owner)
    for clone in Clone.objects.filter(share_token__isnull=True):
        clone.share_token = secrets.token_urlsafe(32)
        clone.save(update_fields=["share_token"])


class Migration(migrations.Migration):
    dependencies = [("clones", "0002_ownership_sharing_tags"), migrations.swappable_dependency(settings.AUTH_USER_MODEL)]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
