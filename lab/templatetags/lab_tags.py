"""The lab's part of the clone page: where the sample came from, takes, listening results, the score."""

from django import template
from django.conf import settings

from lab import similarity
from lab.models import take_tally
from lab.takes import siblings

register = template.Library()


@register.filter
def lab_audio_url(listening_round, side):
    return listening_round.audio_url(side)


@register.inclusion_tag("lab/_panel.html", takes_context=True)
def lab_panel(context, clone):
    user = context["request"].user
    can_manage = clone.can_manage(user)
    score = getattr(clone, "similarity", None) if hasattr(clone, "similarity") else None
    return {
        "request": context["request"],
        "clone": clone,
        "can_manage": can_manage,
        "parts": list(clone.sample_parts.all()) if can_manage else [],
        "takes": siblings(clone),
        "tally": clone.listening_rounds.tally(),
        "take_tally": take_tally(clone),
        "score": score,
        "scoring": settings.LAB_SIMILARITY and similarity.is_available(),
        "csrf_token": context.get("csrf_token"),
        "sandbox_mode": context.get("sandbox_mode"),
    }
