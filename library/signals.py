"""A voice's use count: one for each text someone has it speak (the speech row, once it is made)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from clones.models import Utterance
from library.models import VoiceStats


@receiver(post_save, sender=Utterance, dispatch_uid="library_count_use")
def count_use(sender, instance, created, raw=False, **kwargs):
    if created and not raw and instance.clone_id:
        VoiceStats.bump(instance.clone_id, "uses")
