from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from clones.models import Clone


@receiver(post_save, sender=Clone, dispatch_uid="lab-score-ready-clone")
def score_when_ready(sender, instance, update_fields=None, **kwargs):
    """Queue the similarity score once a clone is ready with its preview (if the score is on)."""
    if not settings.LAB_SIMILARITY or instance.status != Clone.Status.READY or not instance.preview_audio:
        return
    if instance.deletion_requested_at or (update_fields is not None and "status" not in update_fields):
        return  # a save that did not make the clone ready
    from lab.models import SimilarityScore
    from lab.tasks import score_clone

    if not SimilarityScore.objects.filter(clone_id=instance.pk).exists():
        clone_id = instance.pk
        transaction.on_commit(lambda: score_clone.delay(clone_id))
