from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from clones.audio import PROVIDER_FORMATS
from clones.forms import CloneForm
from clones.models import Clone

# Until accounts exist, a browser session remembers the clones it created.
SESSION_KEY = "clone_uuids"


def create(request):
    form = CloneForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        clone = form.save(commit=False)
        try:
            with transaction.atomic():
                clone.save()
                clone.enqueue()
        except Exception:
            clone.sample.delete(save=False)  # the row did not make it: neither may its file
            raise
        request.session[SESSION_KEY] = [str(clone.uuid), *request.session.get(SESSION_KEY, [])][:50]
        return redirect(clone)

    recent = Clone.objects.filter(uuid__in=request.session.get(SESSION_KEY, []))
    return render(request, "clones/create.html", {"form": form, "recent": recent})


@require_GET
def detail(request, uuid):
    clone = get_object_or_404(Clone, uuid=uuid)
    return render(request, "clones/detail.html", {"clone": clone})


@require_GET
def status(request, uuid):
    clone = get_object_or_404(Clone, uuid=uuid)
    return JsonResponse(
        {
            "status": clone.status,
            "label": str(clone.get_status_display()),
            "finished": clone.is_finished,
            "failure_reason": str(clone.failure_reason),
            "steps": [{"status": s["status"], "done": s["done"], "current": s["current"]} for s in clone.steps()],
            "preview_url": clone.preview_url if clone.is_ready else None,
        },
        headers={"Cache-Control": "no-store"},
    )


@require_GET
def preview(request, uuid):
    clone = get_object_or_404(Clone, uuid=uuid)
    if not clone.preview_audio:
        raise Http404
    audio_format = clone.preview_audio.name.rsplit(".", 1)[-1]
    return FileResponse(clone.preview_audio.open("rb"), content_type=PROVIDER_FORMATS.get(audio_format))
