from django.db.models import F
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import usage_summary
from clones.models import Clone, Utterance
from clones.pagecache import cache_for_anonymous
from library.models import card_list, for_cards

FEATURED = 3


@require_GET
# Visitors all see the same page, kept as briefly as the gallery's; signed-in people get theirs.
@cache_for_anonymous("GALLERY_CACHE_SECONDS")
def home(request):
    """For visitors, what Voiceclone does and a few voices to hear; for people signed in, their work."""
    if request.user.is_authenticated:
        return _dashboard(request)
    featured = for_cards(Clone.objects.gallery(), request.user)
    featured = featured.order_by(F("stats__likes").desc(nulls_last=True), "-created_at")[:FEATURED]
    return render(request, "home/welcome.html", {"featured": card_list(featured)})


def _dashboard(request):
    clones = Clone.objects.owned_by(request.user).filter(deletion_requested_at=None)[:8]
    utterances = Utterance.objects.filter(owner=request.user).select_related("clone")[:5]
    return render(
        request,
        "home/dashboard.html",
        {"clones": clones, "utterances": utterances, "usage": usage_summary(request.user)},
    )
