from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import billing
from clones.pipeline import provider_client
from clones.reconcile import import_voice, reconcile


class Command(BaseCommand):
    help = "Compare our clones with the provider's voice list: report unknown voices, mark missing ones gone."

    def add_arguments(self, parser):
        parser.add_argument("--import-to", metavar="USERNAME", help="import every unknown voice for this user")
        parser.add_argument("--delete-unknown", action="store_true", help="delete every unknown voice at the provider")

    def handle(self, *args, import_to=None, delete_unknown=False, **options):
        if import_to and delete_unknown:
            raise CommandError("Choose --import-to or --delete-unknown, not both.")
        owner = None
        if import_to:
            owner = get_user_model().objects.filter(username=import_to).first()
            if owner is None:
                raise CommandError(f"No user named {import_to!r}.")
        with provider_client() as client:
            report = reconcile(client)
            for voice in report.unknown:
                self.stdout.write(f"unknown: {voice.voice} {voice.voice_name} (created {voice.create_time})")
                if owner is not None:
                    with billing(owner.pk, f"import:{voice.voice}"):  # its preview is downloaded
                        clone = import_voice(client, voice, owner)
                    self.stdout.write(f"  imported as clone {clone.uuid}")
                elif delete_unknown:
                    client.delete_voice(voice.voice)
                    self.stdout.write("  deleted at the provider")
        for clone in report.gone:
            self.stdout.write(f"gone: {clone.voice_id} {clone.voice_name} (clone {clone.uuid}, {clone.name})")
        self.stdout.write(f"{len(report.unknown)} unknown, {len(report.gone)} gone")
