from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clones.audio_responses import audio_response
from clones.models import Clone
from library.forms import ShowcaseForm
from library.models import Mark, Play, Showcase, VoiceStats, card_list, for_cards


def _listed_clone(request, uuid):
    """A ready voice this person may see; the same 404 for a missing one and one they may not."""
    clones = Clone.objects.visible_to(request.user).select_related("owner")
    return get_object_or_404(clones, uuid=uuid, status=Clone.Status.READY)


def _back(request, clone):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(clone)


def _toggle(request, uuid, kind):
    clone = _listed_clone(request, uuid)
    on = Mark.toggle(request.user, clone, kind)
    if request.headers.get("Accept", "").startswith("application/json"):
        stats = VoiceStats.objects.filter(clone=clone).first()
        return JsonResponse({"on": on, "count": getattr(stats, Mark.COUNTER[kind], 0) if stats else 0})
    return _back(request, clone)


@login_required
@require_POST
def like(request, uuid):
    return _toggle(request, uuid, Mark.Kind.LIKE)


@login_required
@require_POST
def save(request, uuid):
    return _toggle(request, uuid, Mark.Kind.SAVE)


@require_POST
def play(request, uuid):
    """Called by the page when a visitor starts a voice's preview; counted once per visitor a day."""
    Play.record(request, _listed_clone(request, uuid))
    return HttpResponse(status=204)


@login_required
@require_GET
def saved(request):
    saved = Clone.objects.gallery().filter(marks__user=request.user, marks__kind=Mark.Kind.SAVE)
    clones = card_list(for_cards(saved, request.user).order_by("-marks__created_at")[:200])
    return render(request, "library/saved.html", {"clones": clones})


@login_required
@require_POST
def showcase(request, uuid):
    clone = get_object_or_404(Clone.objects.manageable_by(request.user), uuid=uuid)
    form = ShowcaseForm(request.POST, clone=clone)
    if form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(clone)


@require_GET
def showcase_audio(request, pk):
    visible = Clone.objects.visible_to(request.user)
    clip = get_object_or_404(Showcase.objects.select_related("clone", "utterance"), pk=pk, clone__in=visible)
    if not clip.utterance.audio:
        raise Http404
    public = clip.clone.visibility == Clone.Visibility.PUBLIC
    return audio_response(request, clip.utterance.audio, "audio/wav", public=public)
