import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import QuotaExceeded
from clones.audio_responses import audio_response
from clones.intake import advice_messages
from clones.models import Clone
from clones.submissions import submit_clone
from lab import cleanup
from lab.assembly import MAX_FILES, AssemblyError
from lab.forms import AssembleForm, MultiCloneForm, TakeForm
from lab.models import ListeningRound, Take, take_tally
from lab.takes import make_main, other_stretches, siblings
from lab.uploads import accepts_files


def _own_clone(request, uuid):
    return get_object_or_404(Clone.objects.manageable_by(request.user), uuid=uuid)


@login_required
@accepts_files(MAX_FILES)
def new(request):
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    too_large = getattr(request, "upload_too_large", False)
    form = MultiCloneForm(data, files, owner=request.user, upload_too_large=too_large)
    if request.method == "POST" and form.is_valid():
        try:
            clone = submit_clone(form)
        except QuotaExceeded as exc:
            form.add_error(None, str(exc))
            return render(request, "lab/new.html", _new_context(form), status=429)
        return redirect(clone)
    return render(request, "lab/new.html", _new_context(form), status=400 if form.errors else 200)


def _new_context(form):
    return {"form": form, "min_window": f"{settings.SAMPLE_MIN_SECONDS:g}"}


def assembly_data(assembly):
    """What the page (and the API) shows of a joined sample before it is paid for."""
    prepared = assembly.prepared
    return {
        "report": prepared.report,
        "advice": advice_messages(prepared.report),
        "peaks": prepared.peaks,
        "duration": prepared.duration,
        "files": [
            {
                "index": index,
                "name": part.name,
                "report": part.prepared.report,
                "advice": advice_messages(part.prepared.report),
                "kept_seconds": round(sum(s["end"] - s["start"] for s in part.stretches), 1),
                "duration": part.duration,
            }
            for index, part in enumerate(assembly.parts)
        ],
        "segments": assembly.segments(),
    }


def _data_url(wav):
    return "data:audio/wav;base64," + base64.b64encode(wav).decode()


@login_required
@require_POST
@accepts_files(MAX_FILES)
def assemble_preview(request):
    """The joined sample of the posted recordings, playable, with where each stretch came from; nothing stored."""
    form = AssembleForm(request.POST, request.FILES, upload_too_large=getattr(request, "upload_too_large", False))
    if not form.is_valid():
        errors = next((form.errors[name] for name in ("recordings", "skip", "windows") if name in form.errors), [])
        return JsonResponse({"error": " ".join(errors)}, status=400)
    assembly = form.assembly
    data = assembly_data(assembly)
    # The joined WAV travels in the answer itself: nothing is stored before the owner decides.
    data["audio"] = _data_url(assembly.prepared.wav)
    data["cleanup_offered"] = cleanup.is_available() and (
        cleanup.finds_noise(assembly.prepared.report) or assembly.before_cleanup is not None
    )
    if assembly.before_cleanup is not None:
        before = assembly.before_cleanup
        data["before_cleanup"] = {
            "audio": _data_url(before.wav),
            "report": before.report,
            "advice": advice_messages(before.report),
        }
    return JsonResponse(data, headers={"Cache-Control": "no-store"})


@login_required
@require_POST
def clone_again(request, uuid):
    """A sibling take: the same recordings, other stretches, cloned and charged like any clone."""
    source = _own_clone(request, uuid)
    try:
        assembly = other_stretches(source)
    except AssemblyError as exc:
        messages.error(request, str(exc))
        return redirect(source)
    form = TakeForm(source, request.user, assembly.prepared, assembly if source.sample_parts.exists() else None)
    try:
        clone = submit_clone(form)
    except QuotaExceeded as exc:
        messages.error(request, str(exc))
        return redirect(source)
    messages.success(request, _("A new take of this voice is being cloned from other stretches of your recordings."))
    return redirect(clone)


@login_required
@require_POST
def main_take(request, uuid):
    clone = _own_clone(request, uuid)
    take = get_object_or_404(Take, clone=clone)
    make_main(take)
    messages.success(request, _("This take is now the main one of its voice."))
    return redirect(clone)


def _comparable_takes(clone, visible):
    """The clone's ready sibling takes with a preview, among the clones `visible` to the listener."""
    ids = [take.clone_id for take in siblings(clone) if take.clone_id != clone.pk]
    return list(visible.filter(pk__in=ids, status=Clone.Status.READY).exclude(preview_audio=""))


def _start_round(request, clone, visible, *, shared):
    if not (clone.is_ready and clone.sample and clone.preview_audio):
        raise Http404
    takes = _comparable_takes(clone, visible)
    if request.method == "POST":
        other = None
        if request.POST.get("other"):
            other = next((take for take in takes if str(take.uuid) == request.POST["other"]), None)
            if other is None:
                raise Http404
        return redirect(ListeningRound.start(clone, request.user, shared=shared, other=other))
    numbers = {take.clone_id: take.number for take in siblings(clone)}
    choices = [(take, numbers.get(take.pk)) for take in takes]
    return render(request, "lab/listen.html", {"clone": clone, "takes": choices})


def listen(request, uuid):
    visible = Clone.objects.visible_to(request.user)
    return _start_round(request, get_object_or_404(visible, uuid=uuid), visible, shared=False)


def listen_shared(request, token):
    visible = Clone.objects.shared_with(request.user)
    return _start_round(request, get_object_or_404(visible, share_token=token), visible, shared=True)


def _round_for(request, uuid):
    listening = get_object_or_404(ListeningRound.objects.select_related("clone"), uuid=uuid)
    if not listening.can_listen(request.user):
        raise Http404
    return listening


def listening_round(request, uuid):
    listening = _round_for(request, uuid)
    if request.method == "POST":
        answer = request.POST.get("answer")
        if answer not in ListeningRound.Answer.values:
            messages.error(request, _("Choose A or B."))
        else:
            listening.record(answer, timezone.now())
        return redirect(listening)
    context = {"round": listening, "clone": listening.clone}
    if listening.compares_takes:
        numbers = {take.clone_id: take.number for take in siblings(listening.clone)}
        context["preferred_number"] = numbers.get(listening.preferred.pk) if listening.preferred else None
        context["tally"] = take_tally(listening.clone)
    elif listening.is_answered:
        context["tally"] = listening.clone.listening_rounds.tally()
    return render(request, "lab/round.html", context)


@require_GET
def round_reference(request, uuid):
    """The sample, played openly beside a take-against-take round as the voice to compare with."""
    listening = _round_for(request, uuid)
    if not listening.compares_takes:
        raise Http404  # in an original-against-clone round the sample is one of the hidden sides
    return audio_response(request, listening.clone.sample, "audio/wav", public=False)


@require_GET
def round_audio(request, uuid, side):
    listening = _round_for(request, uuid)
    if side not in ListeningRound.Answer.values:
        raise Http404
    fieldfile, content_type = listening.audio_for(side)
    return audio_response(request, fieldfile, content_type, public=False)
